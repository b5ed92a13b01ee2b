// Workspace secrets, encrypted with AES-256-GCM under deps.secretsKey. Values never leave the service
// except through decryptAll (provisioning). Changes take effect at the next provisioning (API.md).
import { Prisma, type Tx } from '../db/client.js';
import type { ServiceDeps } from '../deps.js';
import { NotFoundError } from '../errors.js';
import { appendEvents } from '../events/log.js';
import { parseOrThrow } from '../validation/rules.js';
import { isUuid, workspaceFromRow, type WorkspaceRecord } from '../workspaces/record.js';
import { openSecret, sealSecret } from './crypto.js';
import { checkWorkspaceTotals, secretKeySchema, secretValueSchema } from './validation.js';

export interface SecretInput {
  key: string;
  value: string;
}

export interface SecretKeyRow {
  workspaceId: string;
  key: string;
}

export interface SecretService {
  /** setWorkspaceSecret: InvalidInputError (key/value/totals), NotFoundError (unknown or REMOVED). */
  set(workspaceId: string, key: string, value: string): Promise<WorkspaceRecord>;
  /** deleteWorkspaceSecret: NotFoundError for an unknown workspace or key. */
  delete(workspaceId: string, key: string): Promise<WorkspaceRecord>;
  /** Inside a transaction (createWorkspace): stores already validated secrets. */
  insertMany(tx: Tx, workspaceId: string, secrets: readonly SecretInput[]): Promise<void>;
  /** Key names of these workspaces, sorted by key (DataLoader batch). */
  listKeys(workspaceIds: readonly string[]): Promise<SecretKeyRow[]>;
  /** Every secret of the workspace in plaintext, for the container environment. */
  decryptAll(workspaceId: string): Promise<Record<string, string>>;
}

/** Bumps updated_at of a live workspace and returns it; the row stays locked until commit. */
async function touchLiveWorkspace(tx: Tx, workspaceId: string): Promise<WorkspaceRecord> {
  const rows = await tx.sql.$queryRaw<Record<string, unknown>[]>`
    /* touchWorkspaceForSecrets */
    UPDATE workspaces SET updated_at = now() WHERE id = ${workspaceId}::uuid AND status <> 'REMOVED' RETURNING *`;
  if (!rows[0]) throw new NotFoundError();
  return workspaceFromRow(rows[0]);
}

export function createSecretService(deps: ServiceDeps): SecretService {
  const { db, secretsKey } = deps;

  function sealedRow(workspaceId: string, s: SecretInput): Prisma.Sql {
    const sealed = sealSecret(secretsKey, workspaceId, s.key, s.value);
    return Prisma.sql`(${workspaceId}::uuid, ${s.key}, ${sealed.ciphertext}, ${sealed.iv}, ${sealed.authTag}, ${Buffer.byteLength(s.value, 'utf8')})`;
  }

  return {
    async set(workspaceId, key, value) {
      parseOrThrow(secretKeySchema, key, ['key']);
      parseOrThrow(secretValueSchema, value, ['value']);
      if (!isUuid(workspaceId)) throw new NotFoundError();
      return db.tx(async (tx) => {
        const workspace = await touchLiveWorkspace(tx, workspaceId);
        await tx.sql.$executeRaw`
          /* upsertWorkspaceSecret */
          INSERT INTO workspace_secrets (workspace_id, key, ciphertext, iv, auth_tag, value_length)
          VALUES ${sealedRow(workspaceId, { key, value })}
          ON CONFLICT (workspace_id, key) DO UPDATE
             SET ciphertext = EXCLUDED.ciphertext, iv = EXCLUDED.iv, auth_tag = EXCLUDED.auth_tag,
                 value_length = EXCLUDED.value_length, updated_at = now()`;
        // Checked after the upsert, under the workspace row lock: concurrent sets cannot both slip under.
        const [totals] = await tx.sql.$queryRaw<{ n: number; bytes: number }[]>`
          /* secretTotals */
          SELECT count(*)::int AS n, coalesce(sum(value_length), 0)::int AS bytes
            FROM workspace_secrets WHERE workspace_id = ${workspaceId}::uuid`;
        checkWorkspaceTotals(totals!.n, totals!.bytes, { key: 'key', value: 'value' });
        await appendEvents(tx, [{ workspaceId, type: 'SECRET_SET', payload: { key } }]);
        return workspace;
      });
    },

    async delete(workspaceId, key) {
      if (!isUuid(workspaceId)) throw new NotFoundError();
      // A key no secret could have (bad syntax, NUL bytes PostgreSQL cannot even compare) is simply unknown.
      if (!secretKeySchema.safeParse(key).success) throw new NotFoundError('secret not found');
      return db.tx(async (tx) => {
        const workspace = await touchLiveWorkspace(tx, workspaceId);
        const deleted = await tx.sql.$executeRaw`
          /* deleteWorkspaceSecret */
          DELETE FROM workspace_secrets WHERE workspace_id = ${workspaceId}::uuid AND key = ${key}`;
        if (deleted === 0) throw new NotFoundError('secret not found');
        await appendEvents(tx, [{ workspaceId, type: 'SECRET_DELETED', payload: { key } }]);
        return workspace;
      });
    },

    async insertMany(tx, workspaceId, secrets) {
      if (secrets.length === 0) return;
      await tx.sql.$executeRaw`
        /* insertWorkspaceSecrets */
        INSERT INTO workspace_secrets (workspace_id, key, ciphertext, iv, auth_tag, value_length)
        VALUES ${Prisma.join(secrets.map((s) => sealedRow(workspaceId, s)))}`;
    },

    async listKeys(workspaceIds) {
      const ids = workspaceIds.filter(isUuid);
      if (ids.length === 0) return [];
      const rows = await db.query<{ workspace_id: string; key: string }>`
        /* listSecretKeys */
        SELECT workspace_id::text, key FROM workspace_secrets WHERE workspace_id = ANY(${ids}::uuid[]) ORDER BY key`;
      return rows.map((r) => ({ workspaceId: r.workspace_id, key: r.key }));
    },

    async decryptAll(workspaceId) {
      if (!isUuid(workspaceId)) return {};
      const rows = await db.prisma.$queryRaw<{ key: string; ciphertext: Uint8Array; iv: Uint8Array; auth_tag: Uint8Array }[]>`
        /* readWorkspaceSecrets */
        SELECT key, ciphertext, iv, auth_tag FROM workspace_secrets WHERE workspace_id = ${workspaceId}::uuid ORDER BY key`;
      const out: Record<string, string> = {};
      for (const r of rows) {
        out[r.key] = openSecret(secretsKey, workspaceId, r.key, {
          ciphertext: Buffer.from(r.ciphertext),
          iv: Buffer.from(r.iv),
          authTag: Buffer.from(r.auth_tag),
        });
      }
      return out;
    },
  };
}
