import { describe, expect, it } from 'vitest';
import { checkedFetch, MalformedReplyError, problemOf } from './reply-check.js';

const completion = JSON.stringify({ id: 'x', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' } }] });

describe('problemOf: what is wrong with a 200 chat completion body', () => {
  it('accepts a completion', () => {
    expect(problemOf(completion)).toBeNull();
  });

  it.each([
    ['', /empty body/],
    ['   \n', /empty body/],
    ['<html>502</html>', /not valid JSON .*<html>502/],
    [completion.slice(0, 30), /not valid JSON/],
    ['[1, 2]', /not an object/],
    ['{"id": "x"}', /without choices/],
    ['{"choices": []}', /without choices/],
    ['{"error": {"message": "upstream overloaded", "type": "server_error"}}', /with an error: upstream overloaded/],
    ['{"error": "plain text error"}', /with an error: plain text error/],
  ])('%j', (body, message) => {
    const problem = problemOf(body);
    expect(problem).toBeInstanceOf(MalformedReplyError);
    expect(problem?.message).toMatch(message);
  });

  it('keeps the status an error object names, so a permanent error is not retried', () => {
    expect(problemOf('{"error": {"message": "no such model", "code": 404}}')?.status).toBe(404);
    expect(problemOf('{"error": {"message": "busy", "code": "503"}}')?.status).toBe(503);
    expect(problemOf('{"error": {"message": "odd", "code": "model_not_found"}}')?.status).toBeNull();
  });
});

describe('checkedFetch', () => {
  const answering = (body: string, init: ResponseInit = {}) =>
    checkedFetch(
      async () => new Response(body, { status: 200, headers: { 'content-type': 'application/json' }, ...init }),
    );

  it('hands a good completion on whole', async () => {
    const res = await answering(completion)('http://m/v1/chat/completions', { method: 'POST' });
    expect(await res.json()).toEqual(JSON.parse(completion));
  });

  it('throws MalformedReplyError for a bad 200 of a chat completion', async () => {
    await expect(answering('<html>')('http://m/v1/chat/completions', { method: 'POST' })).rejects.toThrow(
      MalformedReplyError,
    );
  });

  it('leaves error statuses, streams and other endpoints to the client', async () => {
    const error = await answering('{"error": {"message": "busy"}}', { status: 503 })('http://m/v1/chat/completions', {
      method: 'POST',
    });
    expect(error.status).toBe(503);
    const stream = await answering('data: {}\n\n', { headers: { 'content-type': 'text/event-stream' } })(
      'http://m/v1/chat/completions',
      { method: 'POST' },
    );
    expect(await stream.text()).toBe('data: {}\n\n');
    const models = await answering('not json')('http://m/v1/models', { method: 'GET' });
    expect(await models.text()).toBe('not json');
  });
});
