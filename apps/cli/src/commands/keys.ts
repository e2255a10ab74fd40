import { CreateApiKeyRequest } from '@autolab/contracts';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { formatDateTime, formatTable, oneLine } from '../human-format.js';

export interface CreateKeyOptions {
  tenant: string;
  name?: string;
  admin?: boolean;
  /** Comma-separated scopes. */
  scope?: string;
  /** A duration (`30d`, `12h`, `90m`) or an ISO 8601 date. */
  expires?: string;
  json?: boolean;
}

/** The flag that sets a field of the request, for usage errors. */
const FLAG_OF: Record<string, string> = { scopes: 'scope', expiresAt: 'expires' };

const DURATION_UNITS_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--expires` as an ISO date: `30d` from now, or the date given. */
export function expiryFrom(value: string, now = Date.now()): string {
  const duration = /^(\d{1,6})([mhd])$/.exec(value.trim());
  if (duration) return new Date(now + Number(duration[1]) * DURATION_UNITS_MS[duration[2]!]!).toISOString();
  const date = Date.parse(value);
  if (Number.isNaN(date)) throw new UsageError(`--expires: not a duration (90m, 12h, 30d) or a date: ${value}`);
  return new Date(date).toISOString();
}

/**
 * Creates an API key. The secret is printed once, alone on stdout (so `KEY=$(autolab keys create …)` captures just
 * it); what it is and the warning go to stderr. The server keeps only a hash: it cannot show the key again.
 */
export async function createKeyCommand(ctx: CliContext, options: CreateKeyOptions): Promise<ExitCode> {
  const request = {
    tenant: options.tenant,
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.admin ? { admin: true } : {}),
    ...(options.scope !== undefined ? { scopes: options.scope.split(',').map((s) => s.trim()) } : {}),
    ...(options.expires !== undefined ? { expiresAt: expiryFrom(options.expires) } : {}),
  };
  const checked = CreateApiKeyRequest.safeParse(request);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const field = String(issue?.path[0] ?? 'tenant');
    throw new UsageError(`--${FLAG_OF[field] ?? field}: ${issue?.message ?? 'invalid'}`);
  }
  const created = await ctx.client.createKey(checked.data);
  if (options.json) {
    ctx.io.out(`${JSON.stringify(created)}\n`);
    ctx.io.err('autolab: the key is not shown again: store it now\n');
    return ExitCode.Ok;
  }
  const what = [`tenant ${created.tenant}`];
  if (created.name) what.push(`name ${oneLine(created.name, 60)}`);
  what.push(`scopes ${created.scopes.join(',')}`);
  if (created.expiresAt) what.push(`expires ${formatDateTime(created.expiresAt, ctx.clock)}`);
  ctx.io.err(`created key ${created.id} (${what.join(', ')}):\n`);
  ctx.io.out(`${created.key}\n`);
  ctx.io.err('autolab: this is the only time the key is shown; store it now (use it as AUTOLAB_API_KEY=<key>)\n');
  return ExitCode.Ok;
}

export async function listKeysCommand(ctx: CliContext, options: { json?: boolean }): Promise<ExitCode> {
  const list = await ctx.client.listKeys();
  if (options.json) {
    ctx.io.out(`${JSON.stringify(list)}\n`);
    return ExitCode.Ok;
  }
  if (list.keys.length === 0) {
    ctx.io.out('no keys\n');
    return ExitCode.Ok;
  }
  const header = ['ID', 'TENANT', 'SCOPES', 'CREATED', 'EXPIRES', 'REVOKED', 'NAME'];
  const rows = list.keys.map((key) => [
    key.id,
    key.tenant,
    key.scopes.join(','),
    formatDateTime(key.createdAt, ctx.clock),
    formatDateTime(key.expiresAt, ctx.clock),
    formatDateTime(key.revokedAt, ctx.clock),
    key.name ? oneLine(key.name, 60) : '-',
  ]);
  for (const line of formatTable(rows, { header })) ctx.io.out(`${line}\n`);
  return ExitCode.Ok;
}

export async function revokeKeyCommand(ctx: CliContext, keyId: string): Promise<ExitCode> {
  await ctx.client.revokeKey(keyId);
  ctx.io.out(`revoked key ${keyId}\n`);
  return ExitCode.Ok;
}
