import { z } from 'zod';

/**
 * An environment variable holding JSON (AUTOLAB_SANDBOX_IMAGES, AUTOLAB_MODEL_PRICES, AUTOLAB_MODEL_ENDPOINTS): unset
 * or blank is `empty`; otherwise the text must be JSON that `schema` accepts. Used as a field of the apps' env schemas,
 * so a bad value stops start-up with the variable and the offending path named, like every other setting.
 */
export function jsonSetting<S extends z.ZodType>(schema: S, empty: z.input<S>, example: string) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (!raw?.trim()) return empty as unknown;
      try {
        return JSON.parse(raw) as unknown;
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `not JSON (${(err as Error).message}); expected e.g. ${example}` });
        return z.NEVER;
      }
    })
    .pipe(schema);
}
