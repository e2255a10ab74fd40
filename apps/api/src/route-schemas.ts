import { ErrorBody } from '@autolab/contracts';
import { z } from 'zod';

/** Answers every `/v1` route may give before its handler runs: no or a bad key, and the per-key rate limit. */
export const securedErrors = { 401: ErrorBody, 429: ErrorBody } as const;

export const RunParams = z.object({ id: z.string().max(100) });
