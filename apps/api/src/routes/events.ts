import { ErrorBody, EventPage, isFinalStatus, type RunEvent, STREAM_ERROR_EVENT } from '@autolab/contracts';
import { compareStreamIds } from '@autolab/store';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { ACCESS, principalOf } from '../auth.js';
import { type ErrorAnswer, errorAnswer, errorBody } from '../error-responses.js';
import { ApiError } from '../errors.js';
import { RunNotFound } from '../route-schemas.js';
import { loadRun } from '../run-view.js';

const EVENT_ID = /^(0|\d{1,15}-\d{1,10})$/;

const EventsQuery = z.object({
  after: z.string().optional().describe('Return events after this id (exclusive). `0` or absent: from the start.'),
  limit: z.coerce.number().int().min(1).max(1000).default(200).describe('JSON mode only: events per page.'),
});

function parseEventId(value: string | undefined): string {
  if (value === undefined || value === '') return '0';
  if (!EVENT_ID.test(value))
    throw new ApiError('invalid_cursor', `Not an event id: ${JSON.stringify(value.slice(0, 40))}.`);
  return value;
}

const sseFrame = (event: RunEvent) => `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

/**
 * The frame a stream ends with when it cannot go on after its 200 (docs/api.md): the error an HTTP answer would have
 * given, in the one error shape, without an id (the client resumes after the last event it got), and the answer's
 * Retry-After as `retry:` and `details.retryAfterSeconds`.
 */
function sseErrorFrame(answer: ErrorAnswer): string {
  const retryAfterSeconds = Number(answer.headers?.['retry-after'] ?? 0);
  const details =
    retryAfterSeconds > 0
      ? { ...(answer.details as Record<string, unknown> | undefined), retryAfterSeconds }
      : answer.details;
  const body = errorBody({ ...answer, ...(details === undefined ? {} : { details }) });
  const retry = retryAfterSeconds > 0 ? `retry: ${retryAfterSeconds * 1000}\n` : '';
  return `${retry}event: ${STREAM_ERROR_EVENT}\ndata: ${JSON.stringify(body)}\n\n`;
}

export const eventRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/runs/:id/events',
      {
        config: { access: ACCESS.read },
        schema: {
          tags: ['events'],
          operationId: 'getRunEvents',
          summary: 'The run’s events: a live Server-Sent Events stream, or pages of JSON',
          description:
            'Default: `text/event-stream`. Each event has an `id:`; reconnect with `Last-Event-ID` (or `?after=`) ' +
            'to resume without gaps or duplicates. Comment lines are heartbeats. The stream ends after a ' +
            '`run.finished` event that is the last event of a finished run (a rerun adds `run.requeued` and more ' +
            'events after an earlier `run.finished`). A stream that cannot go on (its store is down) ends with a ' +
            '`stream.error` frame whose data is the error shape. With `Accept: application/json`: one page of events ' +
            'after `after`.',
          params: z.object({ id: z.string().max(100) }),
          querystring: EventsQuery,
          headers: z.object({ 'last-event-id': z.string().max(40).optional(), accept: z.string().optional() }),
          response: { 200: EventPage, 400: ErrorBody, 404: RunNotFound },
        },
      },
      async (request, reply) => {
        const run = await loadRun(deps.runs, request.params.id, principalOf(request));
        const accept = request.headers.accept ?? '';
        const wantsJson = accept.includes('application/json') && !accept.includes('text/event-stream');
        if (wantsJson) {
          const after = parseEventId(request.query.after);
          const events = await deps.runs.readEvents(run.id, after, request.query.limit);
          // Finished = the run is final and this page reaches its last event (read together, atomically, after the
          // page). A rerun appends events after an earlier run.finished, so seeing run.finished alone is not the end.
          const tail = await deps.runs.tail(run.id);
          const reached = events.at(-1)?.id ?? after;
          const finished = !!tail && isFinalStatus(tail.status) && compareStreamIds(reached, tail.lastEventId) >= 0;
          return { events, next: finished ? null : reached, finished };
        }

        const after = parseEventId(request.headers['last-event-id'] ?? request.query.after);
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        res.write('retry: 2000\n\n');
        let closed = false;
        let unsubscribe: (() => void) | null = null;
        let lastWritten = after;
        const end = () => {
          if (closed) return;
          closed = true;
          clearInterval(heartbeat);
          unsubscribe?.();
          res.end();
        };
        const heartbeat = setInterval(() => res.write(': ping\n\n'), deps.heartbeatMs);
        request.raw.on('close', end);
        // A hijacked response is ours alone: an error on it ends this stream and nothing else.
        res.on('error', (err) => {
          request.log.warn({ err }, 'event stream failed');
          end();
        });
        try {
          unsubscribe = await deps.hub.subscribe(run.id, after, (event) => {
            if (closed) return;
            res.write(sseFrame(event));
            lastWritten = event.id;
            // A run may finish several times (each rerun ends with its own run.finished): end the stream only when
            // this run.finished is the run's last event and the run is final, i.e. no rerun has started since.
            if (event.type === 'run.finished') {
              deps.runs.tail(run.id).then(
                (tail) => {
                  if (tail && isFinalStatus(tail.status) && tail.lastEventId === event.id && lastWritten === event.id)
                    end();
                },
                (err) => request.log.warn({ err }, 'could not check the end of an event stream'),
              );
            }
          });
        } catch (err) {
          // Headers are out: the client learns what went wrong from a last frame instead of a stream that just ends.
          const answer = errorAnswer(err as Error);
          if (answer.status >= 500 && answer.code !== 'unavailable' && answer.code !== 'artifact_store_unavailable')
            request.log.error({ err }, 'event stream failed');
          else request.log.warn({ err: (err as Error).message, code: answer.code }, 'event stream ended with an error');
          if (!closed) res.write(sseErrorFrame(answer));
          end();
          return;
        }
        if (closed) {
          unsubscribe();
          return;
        }
        // A finished run whose final event the client has already seen: nothing more will come.
        const tail = await deps.runs.tail(run.id).catch(() => null);
        if (tail && isFinalStatus(tail.status) && compareStreamIds(after, tail.lastEventId) >= 0) end();
      },
    );
  };
