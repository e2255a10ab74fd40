import { z } from 'zod';

/** Tenant names end up in Redis key names and URLs: a short, plain alphabet. */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const Tenant = z
  .string()
  .regex(TENANT_PATTERN, 'tenants are 1-63 lower-case letters, digits, _ and -, starting with a letter or digit');

/** API keys: `alk_` and 32 base62 characters (about 190 random bits). */
export const API_KEY_PATTERN = /^alk_[0-9A-Za-z]{32}$/;
export const API_KEY_ID_PATTERN = /^key_[0-9a-z]{26}$/;

/**
 * What a key may do. `runs:read`: list, watch and download its tenant's runs. `runs:write`: submit, cancel, hint and
 * rerun them. `admin`: everything, for every tenant, plus managing keys and the queue dashboard.
 */
export const SCOPES = ['runs:read', 'runs:write', 'admin'] as const;
export const Scope = z.enum(SCOPES);
export type Scope = z.infer<typeof Scope>;

/** The rights of keys made before scopes existed, and of new keys that name none. */
export const defaultScopes = (admin: boolean): Scope[] => (admin ? [...SCOPES] : ['runs:read', 'runs:write']);

/** Whether `scopes` grant `needed` (admin grants everything). */
export const hasScope = (scopes: readonly Scope[], needed: Scope) =>
  scopes.includes(needed) || scopes.includes('admin');

export const CreateApiKeyRequest = z
  .object({
    tenant: Tenant.describe('The tenant the key acts for; its runs are visible to this tenant only.'),
    name: z.string().trim().min(1).max(100).optional().describe('A label for people, e.g. who holds the key.'),
    admin: z
      .boolean()
      .optional()
      .describe('Shorthand for `scopes: ["admin"]` (true) or a key without `admin` (false).'),
    scopes: z
      .array(Scope)
      .min(1)
      .max(SCOPES.length)
      .optional()
      .describe(
        'What the key may do (default `["runs:read", "runs:write"]`; admin keys: all). `runs:read` lists, watches ' +
          'and downloads; `runs:write` submits, cancels, hints and reruns; `admin` manages keys and sees every tenant.',
      ),
    expiresAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('When the key stops working (ISO 8601, in the future). Default: never.'),
  })
  .strict()
  .refine((r) => r.admin === undefined || r.scopes === undefined || r.scopes.includes('admin') === r.admin, {
    message: '`admin` and `scopes` disagree: give one of them',
    path: ['scopes'],
  })
  .refine((r) => r.expiresAt === undefined || Date.parse(r.expiresAt) > Date.now(), {
    message: 'must be in the future',
    path: ['expiresAt'],
  });
export type CreateApiKeyRequest = z.input<typeof CreateApiKeyRequest>;

/** The scopes a create request asks for. */
export function requestedScopes(request: { admin?: boolean | undefined; scopes?: Scope[] | undefined }): Scope[] {
  const scopes = request.scopes ?? defaultScopes(request.admin ?? false);
  return SCOPES.filter((s) => scopes.includes(s));
}

/** A key as listed: never the secret (only its SHA-256 hash is stored). */
export const ApiKeyRecord = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string().nullable(),
  admin: z.boolean().describe('Whether `scopes` include `admin`.'),
  scopes: z.array(Scope),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;

/** The answer to creating a key: the only time the secret is shown. */
export const CreatedApiKey = z.object({
  id: z.string(),
  key: z.string().describe('The secret. Shown once; send it as `Authorization: Bearer <key>`.'),
  tenant: z.string(),
  name: z.string().nullable(),
  admin: z.boolean(),
  scopes: z.array(Scope),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
});
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

export const ApiKeyList = z.object({ keys: z.array(ApiKeyRecord) });
export type ApiKeyList = z.infer<typeof ApiKeyList>;

/** Who is calling: set on every authenticated request. */
export interface Principal {
  /** The key's id; `admin-env` for the bootstrap key, `anonymous` with auth off. */
  keyId: string;
  tenant: string;
  /** Sees every tenant's runs (the key has the `admin` scope). */
  admin: boolean;
  scopes: readonly Scope[];
}
