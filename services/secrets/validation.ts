// Secret rules of API.md: key syntax, names the container already uses, value and per-workspace sizes.
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';

/** Variables the server itself gives every container (API.md container contract). */
export const RESERVED_SECRET_KEYS = new Set(['WORKSPACE_ID', 'PLATFORM_URL', 'WORKSPACE_CONFIG_PATH', 'TIER', 'HEARTBEAT_INTERVAL_S']);
export const MAX_SECRET_VALUE_BYTES = 64 * 1024;
export const MAX_SECRETS_PER_WORKSPACE = 100;
export const MAX_SECRET_BYTES_PER_WORKSPACE = 256 * 1024;

export const secretKeySchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must match ^[A-Za-z_][A-Za-z0-9_]{0,127}$')
  .refine((k) => !RESERVED_SECRET_KEYS.has(k), 'is a variable the server sets in the container')
  // Case-insensitive: a lower-case molecule_ variable is as confusing to an agent as the real prefix.
  .refine((k) => !/^MOLECULE_/i.test(k), 'must not start with MOLECULE_');

export const secretValueSchema = z
  .string()
  .refine((v) => Buffer.byteLength(v, 'utf8') <= MAX_SECRET_VALUE_BYTES, 'must be at most 64 KiB');

export const secretInputSchema = z.object({ key: secretKeySchema, value: secretValueSchema });

/** The create input's secret list: per-item rules, unique keys and the per-workspace totals. */
export const secretListSchema = z.array(secretInputSchema).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((s, i) => {
    if (seen.has(s.key)) ctx.addIssue({ code: 'custom', path: [i, 'key'], message: 'duplicate key' });
    seen.add(s.key);
  });
  if (list.length > MAX_SECRETS_PER_WORKSPACE) {
    ctx.addIssue({ code: 'custom', message: `at most ${MAX_SECRETS_PER_WORKSPACE} secrets per workspace` });
  }
  const total = list.reduce((n, s) => n + Buffer.byteLength(s.value, 'utf8'), 0);
  if (total > MAX_SECRET_BYTES_PER_WORKSPACE) {
    ctx.addIssue({ code: 'custom', message: 'at most 256 KiB of secret values per workspace' });
  }
});

/** After an upsert, checked against the workspace's stored totals (under the workspace row lock). */
export function checkWorkspaceTotals(count: number, bytes: number, field: { key: string; value: string }): void {
  if (count > MAX_SECRETS_PER_WORKSPACE) {
    throw new InvalidInputError([{ field: field.key, message: `at most ${MAX_SECRETS_PER_WORKSPACE} secrets per workspace` }]);
  }
  if (bytes > MAX_SECRET_BYTES_PER_WORKSPACE) {
    throw new InvalidInputError([{ field: field.value, message: 'at most 256 KiB of secret values per workspace' }]);
  }
}
