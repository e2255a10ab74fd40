import { describe, expect, it } from 'vitest';
import { SseParser } from './sse.js';

describe('SseParser', () => {
  it('parses frames with id, event and data, skipping comments and reading retry', () => {
    const parser = new SseParser();
    const messages = parser.push('retry: 2000\n\n: ping\n\nid: 1-0\nevent: node.created\ndata: {"a":1}\n\n');
    expect(messages).toEqual([{ id: '1-0', event: 'node.created', data: '{"a":1}' }]);
    expect(parser.retryMs).toBe(2000);
    expect(parser.lastEventId).toBe('1-0');
  });

  it('handles chunks split anywhere, including inside a CRLF', () => {
    const text = 'id: 5-1\r\nevent: x\r\ndata: hello\r\ndata: world\r\n\r\nid: 6-0\r\ndata: two\r\n\r\n';
    for (let split = 1; split < text.length; split++) {
      const parser = new SseParser();
      const messages = [...parser.push(text.slice(0, split)), ...parser.push(text.slice(split))];
      expect(messages).toEqual([
        { id: '5-1', event: 'x', data: 'hello\nworld' },
        { id: '6-0', event: 'message', data: 'two' },
      ]);
    }
  });

  it('feeds one character at a time', () => {
    const parser = new SseParser();
    const text = 'data:no-space\n\ndata: {"x": "a:b"}\n\n';
    const messages = [...text].flatMap((c) => parser.push(c));
    expect(messages.map((m) => m.data)).toEqual(['no-space', '{"x": "a:b"}']);
  });

  it('does not dispatch an unfinished message, and reset() drops it and its id', () => {
    const parser = new SseParser();
    expect(parser.push('id: 7-0\ndata: done\n\nid: 8-0\ndata: half')).toHaveLength(1);
    expect(parser.lastEventId).toBe('7-0');
    parser.reset();
    expect(parser.lastEventId).toBe('7-0');
    expect(parser.push('data: fresh\n\n')).toEqual([{ id: '7-0', event: 'message', data: 'fresh' }]);
  });

  it('ignores malformed retry and ids with NUL', () => {
    const parser = new SseParser();
    parser.push('retry: soon\nid: a\0b\ndata: x\n\n');
    expect(parser.retryMs).toBeNull();
    expect(parser.lastEventId).toBeNull();
  });
});
