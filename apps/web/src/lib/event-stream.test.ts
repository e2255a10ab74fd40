import { ApiClient } from '@autolab/api-client';
import { describe, expect, it } from 'vitest';
import { followEvents, type StreamState } from './event-stream.js';

/** The dashboard's client, its requests answered by `fakeFetch`. */
const clientWith = (fakeFetch: typeof fetch, apiKey: string | null = null) =>
  new ApiClient({ baseUrl: 'http://dashboard.test/', apiKey, fetch: fakeFetch });
const headersOf = (init: RequestInit) => Object.fromEntries(new Headers(init.headers).entries());

const frame = (id: string, type: string) =>
  `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ id, runId: 'r', time: '', type, message: type, data: {} })}\n\n`;

/** A response whose body is the given chunks, then either an end or an error (a dropped connection). */
function response(chunks: string[], opts: { status?: number; drop?: boolean } = {}): Response {
  const encoder = new TextEncoder();
  const queue = [...chunks];
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = queue.shift();
      if (chunk !== undefined) controller.enqueue(encoder.encode(chunk));
      else if (opts.drop) controller.error(new TypeError('network error'));
      else controller.close();
    },
  });
  const status = opts.status ?? 200;
  return new Response(body, { status, headers: status === 200 ? { 'content-type': 'text/event-stream' } : {} });
}

describe('followEvents', () => {
  it('shows the error of a stream.error frame while it reconnects, after the wait the server asked for', async () => {
    const requests: Record<string, string>[] = [];
    const replies = [
      () =>
        response([
          'retry: 2000\n\n',
          frame('1-0', 'run.queued'),
          'retry: 1\nevent: stream.error\ndata: {"error":{"code":"artifact_store_unavailable","message":"The artifact store is unreachable.","details":{"retryAfterSeconds":0}}}\n\n',
        ]),
      () => response([frame('2-0', 'run.finished')]),
    ];
    const fakeFetch = (async (_url: string, init: RequestInit) => {
      requests.push(headersOf(init));
      return replies.shift()!();
    }) as unknown as typeof fetch;
    const ids: string[] = [];
    const states: [StreamState, string | undefined][] = [];
    const stream = followEvents({
      client: clientWith(fakeFetch),
      runId: 'r',
      onEvent: (e) => ids.push(e.id),
      onState: (s, detail) => states.push([s, detail]),
    });
    await stream.done;
    expect(ids).toEqual(['1-0', '2-0']);
    expect(requests.map((h) => h['last-event-id'])).toEqual([undefined, '1-0']);
    expect(states).toContainEqual(['reconnecting', 'artifact_store_unavailable: The artifact store is unreachable.']);
    expect(states.at(-1)).toEqual(['finished', undefined]);
  });

  it('resumes with Last-Event-ID after a drop, sends the key and drops duplicates', async () => {
    const requests: Record<string, string>[] = [];
    const replies = [
      () =>
        response(['retry: 1\n\n', frame('1-0', 'run.queued'), frame('2-0', 'node.created').slice(0, 20)], {
          drop: true,
        }),
      () => response(['retry: 1\n\n'], { status: 503 }),
      () => response([frame('1-0', 'run.queued'), frame('2-0', 'node.created'), frame('3-0', 'run.finished')]),
    ];
    const fakeFetch = (async (_url: string, init: RequestInit) => {
      requests.push(headersOf(init));
      return replies.shift()!();
    }) as unknown as typeof fetch;
    const ids: string[] = [];
    const states: StreamState[] = [];
    const stream = followEvents({
      client: clientWith(fakeFetch, 'k1'),
      runId: 'r',
      retryMs: 1,
      onEvent: (e) => ids.push(e.id),
      onState: (s) => states.push(s),
    });
    await stream.done;
    expect(ids).toEqual(['1-0', '2-0', '3-0']);
    expect(requests.map((h) => h['last-event-id'])).toEqual([undefined, '1-0', '1-0']);
    expect(requests.every((h) => h.authorization === 'Bearer k1')).toBe(true);
    expect(states[0]).toBe('connecting');
    expect(states).toContain('reconnecting');
    expect(states.at(-1)).toBe('finished');
  });

  it('keeps reading after a run.finished that a rerun follows, and reconnects if the stream ends mid-run', async () => {
    const replies = [
      () => response([frame('1-0', 'run.finished'), frame('2-0', 'run.requeued'), frame('3-0', 'run.started')]),
      () => response([frame('4-0', 'run.finished')]),
    ];
    const sent: (string | undefined)[] = [];
    const fakeFetch = (async (_url: string, init: RequestInit) => {
      sent.push(headersOf(init)['last-event-id']);
      return replies.shift()!();
    }) as unknown as typeof fetch;
    const ids: string[] = [];
    await followEvents({ client: clientWith(fakeFetch), runId: 'x', retryMs: 1, onEvent: (e) => ids.push(e.id) }).done;
    expect(ids).toEqual(['1-0', '2-0', '3-0', '4-0']);
    expect(sent).toEqual([undefined, '3-0']);
  });

  it('resuming after the final run.finished ends when the server ends the stream at once', async () => {
    let calls = 0;
    const fakeFetch = (async () => {
      calls++;
      return response(['retry: 2000\n\n']);
    }) as unknown as typeof fetch;
    const states: StreamState[] = [];
    await followEvents({
      client: clientWith(fakeFetch),
      runId: 'x',
      lastEventId: '9-0',
      lastEventWasFinish: true,
      onEvent: () => {},
      onState: (s) => states.push(s),
    }).done;
    expect(calls).toBe(1);
    expect(states.at(-1)).toBe('finished');
  });

  it('stops on a 404 with the server message', async () => {
    const states: [StreamState, string | undefined][] = [];
    const fakeFetch = (async () =>
      new Response(JSON.stringify({ error: { code: 'run_not_found', message: 'No run.' } }), {
        status: 404,
      })) as unknown as typeof fetch;
    await followEvents({
      client: clientWith(fakeFetch),
      runId: 'x',
      onEvent: () => {},
      onState: (s, d) => states.push([s, d]),
    }).done;
    expect(states.at(-1)).toEqual(['error', 'No run.']);
  });

  it('replaces a connection that goes silent (a proxy that stopped forwarding), resuming where it stopped', async () => {
    const silent = () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(frame('1-0', 'run.started')));
            // …and then nothing, without closing: no event, no heartbeat.
          },
        }),
        { status: 200, headers: { 'content-type': 'text/event-stream' } },
      );
    const replies = [silent, () => response([frame('2-0', 'run.finished')])];
    const sent: (string | undefined)[] = [];
    const fakeFetch = (async (_url: string, init: RequestInit) => {
      sent.push(headersOf(init)['last-event-id']);
      return replies.shift()!();
    }) as unknown as typeof fetch;
    const ids: string[] = [];
    const states: [StreamState, string | undefined][] = [];
    await followEvents({
      client: clientWith(fakeFetch),
      runId: 'x',
      retryMs: 1,
      idleTimeoutMs: 100,
      onEvent: (e) => ids.push(e.id),
      onState: (s, d) => states.push([s, d]),
    }).done;
    expect(ids).toEqual(['1-0', '2-0']);
    expect(sent).toEqual([undefined, '1-0']);
    expect(states).toContainEqual(['reconnecting', 'no data for 0.1s']);
    expect(states.at(-1)).toEqual(['finished', undefined]);
  });

  it('close() ends a stream that is waiting to reconnect', async () => {
    const fakeFetch = (async () => response([], { status: 502 })) as unknown as typeof fetch;
    const stream = followEvents({ client: clientWith(fakeFetch), runId: 'x', onEvent: () => {}, retryMs: 60_000 });
    setTimeout(() => stream.close(), 20);
    await stream.done;
  });
});
