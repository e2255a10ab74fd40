import { describe, expect, it } from 'vitest';
import type { ApiClient } from './api-client.js';
import { followEvents, type ReconnectInfo } from './follow-events.js';

const stream = (text: string) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });

const event = (id: string, type: string) =>
  `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ id, runId: 'run_x', type, message: type, data: {}, time: new Date(0).toISOString() })}\n\n`;

const STORE_DOWN =
  'retry: 5000\nevent: stream.error\ndata: {"error":{"code":"artifact_store_unavailable","message":"The artifact store is unreachable.","details":{"retryAfterSeconds":5}}}\n\n';

describe('followEvents and a stream.error frame', () => {
  it('reconnects after the server’s retry time, naming the error, and resumes where the events stopped', async () => {
    const bodies = [`retry: 2000\n\n${event('1-1', 'log')}${STORE_DOWN}`, `retry: 2000\n\n${event('1-2', 'log')}`];
    const asked: (string | null | undefined)[] = [];
    const client = {
      openEventStream: async (_runId: string, options: { lastEventId?: string | null }) => {
        asked.push(options.lastEventId);
        return stream(bodies.shift() ?? '');
      },
    } as unknown as ApiClient;
    const reconnects: ReconnectInfo[] = [];
    const ids: string[] = [];
    const controller = new AbortController();
    const following = (async () => {
      for await (const followed of followEvents(client, 'run_x', {
        baseDelayMs: 1,
        maxAttempts: 2,
        signal: controller.signal,
        onReconnect: (info) => reconnects.push(info),
      }))
        ids.push(followed.id);
    })();
    await new Promise((r) => setTimeout(r, 100));
    expect(reconnects[0]).toMatchObject({
      reason: 'artifact_store_unavailable: The artifact store is unreachable.',
      lastEventId: '1-1',
      delayMs: 5000,
    });
    controller.abort();
    await following.catch(() => undefined);
    expect(ids).toEqual(['1-1']);
    expect(asked).toEqual([null]);
  });

  it('gives up after maxAttempts streams that end with an error before any event', async () => {
    const client = {
      openEventStream: async () => stream(STORE_DOWN.replace('"retryAfterSeconds":5', '"retryAfterSeconds":0')),
    } as unknown as ApiClient;
    const follow = async () => {
      for await (const _ of followEvents(client, 'run_x', { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 })) {
        // none come
      }
    };
    await expect(follow()).rejects.toThrow(/after 2 attempts \(artifact_store_unavailable: /);
  });
});
