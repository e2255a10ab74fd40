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
