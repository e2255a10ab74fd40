import { z } from 'zod';

/** Tenant names end up in Redis key names and URLs: a short, plain alphabet. */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const Tenant = z
  .string()
  .regex(TENANT_PATTERN, 'tenants are 1-63 lower-case letters, digits, _ and -, starting with a letter or digit');

/** API keys: `alk_` and 32 base62 characters (about 190 random bits). */
export const API_KEY_PATTERN = /^alk_[0-9A-Za-z]{32}$/;
export const API_KEY_ID_PATTERN = /^key_[0-9a-z]{26}$/;

export const CreateApiKeyRequest = z
  .object({
    tenant: Tenant.describe('The tenant the key acts for; its runs are visible to this tenant only.'),
    name: z.string().trim().min(1).max(100).optional().describe('A label for people, e.g. who holds the key.'),
    admin: z
      .boolean()
      .default(false)
      .describe('Admin keys manage keys, see every tenant’s runs and open the queue dashboard.'),
  })
  .strict();
export type CreateApiKeyRequest = z.input<typeof CreateApiKeyRequest>;

/** A key as listed: never the secret (only its SHA-256 hash is stored). */
export const ApiKeyRecord = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string().nullable(),
  admin: z.boolean(),
  createdAt: z.string(),
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
  createdAt: z.string(),
});
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

export const ApiKeyList = z.object({ keys: z.array(ApiKeyRecord) });
export type ApiKeyList = z.infer<typeof ApiKeyList>;

/** Who is calling: set on every authenticated request. */
export interface Principal {
  /** The key's id; `admin-env` for the bootstrap key, `anonymous` with auth off. */
  keyId: string;
  tenant: string;
  admin: boolean;
}
