// The stale-token pass (DESIGN.md "The stale-token sweep is exact"). After an out-of-band volume wipe
// the database keeps live tokens that no agent holds; revoking the stale ones lets the next
// provisioning or bootstrap register mint a usable one. It must never revoke a token a concurrent
// restart has just minted: the revoking UPDATE carries the staleness predicate itself.
import type { Database } from '../db/client.js';
import { appendEvents, type NewEvent } from '../events/log.js';
import type { RefArrays } from './container-match.js';
import {
  revokeStaleTokens,
  revokeWorkspaceTokensNaive,
  selectStaleTokenWorkspacesNaive,
  type RevokedTokenRow,
} from './sweeper-sql.js';

export const STALE_TOKEN_SOURCE = 'stale-token-sweep';

export type StaleTokenVariant = 'exact' | 'naive';

export interface StaleTokenPassOptions {
  db: Database;
  graceSeconds: number;
  /** Test only (never from config): the previous system's two-step variant, which the race test must catch. */
  variant?: StaleTokenVariant;
  /** Test only: awaited after the containers were listed and right before anything is revoked. */
  beforeRevoke?: () => Promise<void>;
}

function revokedEvents(rows: readonly RevokedTokenRow[]): NewEvent[] {
  return rows.map((r) => ({
    workspaceId: r.workspace_id,
    type: 'TOKEN_REVOKED',
    payload: { tokenId: r.id, prefix: r.prefix, source: STALE_TOKEN_SOURCE },
  }));
}

/** Revokes the stale live tokens of workspaces without a container; returns what it revoked. */
export async function runStaleTokenPass(
  opts: StaleTokenPassOptions,
  containers: RefArrays,
  timeoutMs: number,
): Promise<RevokedTokenRow[]> {
  const { db, graceSeconds } = opts;
  if (opts.variant === 'naive') return runNaive(opts, containers);
  await opts.beforeRevoke?.();
  return db.tx(
    async (tx) => {
      const rows = await revokeStaleTokens(tx.sql, containers, graceSeconds);
      await appendEvents(tx, revokedEvents(rows));
      return rows;
    },
    { timeoutMs },
  );
}

/** The bug, kept for the race test: the candidates are chosen, then every live token of each is revoked. */
async function runNaive(opts: StaleTokenPassOptions, containers: RefArrays): Promise<RevokedTokenRow[]> {
  const candidates = await selectStaleTokenWorkspacesNaive(opts.db.prisma, containers, opts.graceSeconds);
  await opts.beforeRevoke?.();
  const revoked: RevokedTokenRow[] = [];
  for (const { id } of candidates) {
    revoked.push(
      ...(await opts.db.tx(async (tx) => {
        const rows = await revokeWorkspaceTokensNaive(tx.sql, id);
        await appendEvents(tx, revokedEvents(rows));
        return rows;
      })),
    );
  }
  return revoked;
}
