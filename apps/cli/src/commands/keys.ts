import { CreateApiKeyRequest } from '@autolab/contracts';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { formatDateTime, formatTable, oneLine } from '../human-format.js';

export interface CreateKeyOptions {
  tenant: string;
  name?: string;
  admin?: boolean;
  json?: boolean;
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
  };
  const checked = CreateApiKeyRequest.safeParse(request);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new UsageError(`--${String(issue?.path[0] ?? 'tenant')}: ${issue?.message ?? 'invalid'}`);
  }
  const created = await ctx.client.createKey(request);
  if (options.json) {
    ctx.io.out(`${JSON.stringify(created)}\n`);
    ctx.io.err('autolab: the key is not shown again: store it now\n');
    return ExitCode.Ok;
  }
  const what = [`tenant ${created.tenant}`];
  if (created.name) what.push(`name ${oneLine(created.name, 60)}`);
  if (created.admin) what.push('admin');
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
  const header = ['ID', 'TENANT', 'ADMIN', 'CREATED', 'REVOKED', 'NAME'];
  const rows = list.keys.map((key) => [
    key.id,
    key.tenant,
    key.admin ? 'yes' : 'no',
    formatDateTime(key.createdAt, ctx.clock),
    formatDateTime(key.revokedAt, ctx.clock),
    key.name ? oneLine(key.name, 60) : '-',
  ]);
  for (const line of formatTable(header, rows)) ctx.io.out(`${line}\n`);
  return ExitCode.Ok;
}

export async function revokeKeyCommand(ctx: CliContext, keyId: string): Promise<ExitCode> {
  await ctx.client.revokeKey(keyId);
  ctx.io.out(`revoked key ${keyId}\n`);
  return ExitCode.Ok;
}
