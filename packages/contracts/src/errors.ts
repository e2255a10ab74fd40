import { z } from 'zod';

/** The one shape of every error the API returns. */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string().describe('Stable, machine-readable code, e.g. `validation_failed`, `run_not_found`.'),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * The `event:` of the last frame of an event stream (SSE) that the server cannot go on with after it has answered 200
 * (the artifact store holding an archived run's events is down, Redis went away): its `data:` is an `ErrorBody`, it
 * has no `id:` (resuming with `Last-Event-ID` continues where the events stopped), and a `retry:` before it says when
 * to try again. Not a run event: run events of type `error` are the run's own.
 */
export const STREAM_ERROR_EVENT = 'stream.error';
