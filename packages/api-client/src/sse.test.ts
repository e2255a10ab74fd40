import { describe, expect, it } from 'vitest';
import { readSse, SseFormatError, type SseMessage, SseParser } from './sse.js';

const streamOf = (chunks: Uint8Array[]): ReadableStream<Uint8Array> =>
  new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });

async function collect(chunks: Uint8Array[]): Promise<SseMessage[]> {
  const messages: SseMessage[] = [];
  for await (const message of readSse(streamOf(chunks))) messages.push(message);
  return messages;
}

const encode = (text: string) => new TextEncoder().encode(text);

/** Every event feature at once: comments, CRLF and lone CR, multi-line data, ids, a multi-byte character. */
const WIRE =
  ': ping\n' +
  'retry: 3000\r\n' +
  'id: 1-0\r\nevent: node.finished\r\ndata: {"a":1}\r\n\r\n' +
  ': ping\n\n' +
  'id: 2-0\nevent: exec.output\ndata: first line\ndata:second line\ndata:  two spaces\n\n' +
  'data: no id or event, résumé ✓ 𝛼\r\rid: 3-0\revent: run.finished\rdata: {"done":true}\r\r' +
  'data: dropped because the stream ends before the blank line';

const EXPECTED: SseMessage[] = [
  { id: '1-0', event: 'node.finished', data: '{"a":1}' },
  { id: '2-0', event: 'exec.output', data: 'first line\nsecond line\n two spaces' },
  { id: '2-0', event: 'message', data: 'no id or event, résumé ✓ 𝛼' },
  { id: '3-0', event: 'run.finished', data: '{"done":true}' },
];

describe('readSse', () => {
  it('parses a whole stream in one chunk', async () => {
    expect(await collect([encode(WIRE)])).toEqual(EXPECTED);
  });

  it('gives the same events wherever the bytes are split in two', async () => {
    const bytes = encode(WIRE);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const messages = await collect([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(messages, `split at byte ${cut}`).toEqual(EXPECTED);
    }
  });

  it('gives the same events when every byte arrives alone, and for random three-way splits', async () => {
    const bytes = encode(WIRE);
    expect(await collect([...bytes].map((b) => Uint8Array.of(b)))).toEqual(EXPECTED);
    for (let round = 0; round < 200; round++) {
      const [a, b] = [Math.random(), Math.random()].map((r) => Math.floor(r * bytes.length)).sort((x, y) => x - y) as [
        number,
        number,
      ];
      const messages = await collect([bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]);
      expect(messages, `split at ${a} and ${b}`).toEqual(EXPECTED);
    }
  });

  it('stops reading and cancels the body when the consumer stops', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encode('data: one\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const message of readSse(body)) {
      expect(message.data).toBe('one');
      break;
    }
    expect(cancelled).toBe(true);
  });
});

describe('SseParser', () => {
  it('parses frames with id, event and data, skipping comments and reading retry', () => {
    const parser = new SseParser();
    const messages = parser.push('retry: 2000\n\n: ping\n\nid: 1-0\nevent: node.created\ndata: {"a":1}\n\n');
    expect(messages).toEqual([{ id: '1-0', event: 'node.created', data: '{"a":1}' }]);
    expect(parser.retryMs).toBe(2000);
    expect(parser.lastEventId).toBe('1-0');
  });

  it('does not dispatch an unfinished message, and reset() drops it and its id', () => {
    const parser = new SseParser();
    expect(parser.push('id: 7-0\ndata: done\n\nid: 8-0\ndata: half')).toHaveLength(1);
    expect(parser.lastEventId).toBe('7-0');
    parser.reset();
    expect(parser.lastEventId).toBe('7-0');
    expect(parser.push('data: fresh\n\n')).toEqual([{ id: '7-0', event: 'message', data: 'fresh' }]);
  });

  it('ignores a malformed retry and ids with NUL', () => {
    const parser = new SseParser();
    parser.push('retry: soon\nid: a\0b\ndata: x\n\n');
    expect(parser.retryMs).toBeNull();
    expect(parser.lastEventId).toBeNull();
  });

  it('refuses a stream that buffers more than its bound without ending a line', () => {
    const parser = new SseParser(1000);
    expect(() => parser.push(`data: ${'x'.repeat(2000)}`)).toThrow(SseFormatError);
  });

  it('counts comments, keeps retry, ignores unknown fields and events without data', () => {
    const parser = new SseParser();
    const messages = parser.push(': ping\n:\nretry: 1500\nfoo: bar\nevent: empty\n\nid: 7\n\ndata\n\n');
    expect(parser.comments).toBe(2);
    expect(parser.retryMs).toBe(1500);
    // A `data` line without a colon is an empty data line. An event without data is not dispatched, and its id is
    // not a point to resume from (eventsource-parser reports ids with events only; the API never sends one alone).
    expect(messages).toEqual([{ id: null, event: 'message', data: '' }]);
  });

  it('strips one leading BOM and treats a CR at a chunk end followed by LF as one line break', () => {
    const parser = new SseParser();
    expect(parser.push('\ufeffdata: a\r')).toEqual([]);
    expect(parser.push('\n')).toEqual([]);
    expect(parser.push('\r\n')).toEqual([{ id: null, event: 'message', data: 'a' }]);
  });
});
