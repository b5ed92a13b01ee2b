// The provisioner's statements. Every one is guarded on (status PROVISIONING, generation, claim owner),
// so a provisioner that lost (paused, deleted, restarted again, or its claim taken over) finds out
// from the statement itself and never writes on top of newer work (DESIGN.md).
import { Prisma, type Database, type Tx } from '../db/client.js';
import { appendEvents, type NewEvent } from '../events/log.js';
import { statusEvent, transition } from '../workspaces/transition.js';
import { workspaceFromRow, type WorkspaceRecord } from '../workspaces/record.js';
import { tokenRevokedEvents, type TokenService } from '../tokens/service.js';
import { tokenFromRow } from '../tokens/records.js';

/**
 * API.md "Outages": a claim is stale when its owner has no live database session or has not renewed
 * it for this long. Claims are renewed every few seconds while the work runs (queue.ts).
 */
export const STALE_CLAIM_S = 10;

export interface ProvisionTicket {
  workspaceId: string;
  generation: number;
  /** This process's instance id: the claim owner. */
  owner: string;
}

/**
 * How a provisioner may claim the work:
 * - `fresh`: right after the PROVISIONING commit, only unclaimed work;
 * - `retry`: this instance's own work again after a transient failure (unclaimed, or still ours);
 * - `takeover`: work the takeover loop judged stale (takeover.ts). The statement re-checks that the
 *   claim is still the one judged (`from`) and still stale, so a live owner that renewed meanwhile
 *   keeps its work.
 */
export type ClaimMode =
  | { kind: 'fresh' }
  | { kind: 'retry' }
  | { kind: 'takeover'; from: string | null; ownerGone: boolean; ownerSessions: string[] };

export async function claimProvisioning(db: Database, t: ProvisionTicket, mode: ClaimMode): Promise<WorkspaceRecord | null> {
  const which =
    mode.kind === 'fresh'
      ? Prisma.sql`provision_claimed_by IS NULL`
      : mode.kind === 'retry'
        ? Prisma.sql`(provision_claimed_by IS NULL OR provision_claimed_by = ${t.owner})`
        : Prisma.sql`provision_claimed_by IS NOT DISTINCT FROM ${mode.from}::text
            AND (${mode.from}::text IS NULL
                 OR ${mode.ownerGone}
                 OR provision_claimed_at IS NULL
                 OR provision_claimed_at < now() - make_interval(secs => ${STALE_CLAIM_S})
                 OR provision_started_at < now() - make_interval(secs => ${STALE_CLAIM_S})
                 OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.application_name = ANY(${mode.ownerSessions}::text[])))`;
  const rows = await db.prisma.$queryRaw<Record<string, unknown>[]>`
    /* claimProvisioning */
    UPDATE workspaces
       SET provision_claimed_by = ${t.owner}, provision_claimed_at = now(), provision_started_at = NULL
     WHERE id = ${t.workspaceId}::uuid AND status = 'PROVISIONING' AND generation = ${t.generation}
       AND ${which}
    RETURNING *`;
  return rows[0] ? workspaceFromRow(rows[0]) : null;
}

/** Renews this instance's claims on the work it is doing now (not on work handed to the agent). */
export async function renewClaims(db: Database, owner: string, workspaceIds: string[]): Promise<void> {
  if (workspaceIds.length === 0) return;
  await db.query`
    /* renewProvisioningClaims */
    UPDATE workspaces SET provision_claimed_at = now()
     WHERE id = ANY(${workspaceIds}::uuid[]) AND status = 'PROVISIONING' AND provision_claimed_by = ${owner}
       AND provision_started_at IS NULL`;
}

/** When the interrupted provisioning of this generation began (tokens minted since are its own). */
export function provisioningBeganAt(w: WorkspaceRecord): Date {
  return w.lastActiveAt > w.statusChangedAt ? w.lastActiveAt : w.statusChangedAt;
}

/** True while the work is still ours; refreshes the claim (and locks the row inside a transaction). */
export async function stillCurrent(sql: Database['prisma'] | Tx['sql'], t: ProvisionTicket): Promise<boolean> {
  const rows = await sql.$queryRaw<unknown[]>`
    /* refreshProvisioningClaim */
    UPDATE workspaces SET provision_claimed_at = now()
     WHERE id = ${t.workspaceId}::uuid AND status = 'PROVISIONING' AND generation = ${t.generation}
       AND provision_claimed_by = ${t.owner}
    RETURNING id`;
  return rows.length > 0;
}

/**
 * After the start: the container is ours unless the generation moved on or the row left the
 * agent's own path. The agent registers within milliseconds of its start, so ONLINE or DEGRADED at
 * this generation (and OFFLINE, should it already have died: the health sweep's business) is success;
 * PAUSED, HIBERNATING, REMOVED or FAILED mean someone discarded this generation meanwhile.
 */
export async function startConfirmed(sql: Database['prisma'], t: ProvisionTicket): Promise<boolean> {
  const rows = await sql.$queryRaw<unknown[]>`
    /* confirmStartedContainer */
    UPDATE workspaces SET provision_claimed_at = now(), provision_started_at = now()
     WHERE id = ${t.workspaceId}::uuid AND generation = ${t.generation} AND provision_claimed_by = ${t.owner}
       AND status IN ('PROVISIONING', 'ONLINE', 'DEGRADED', 'OFFLINE')
    RETURNING id`;
  return rows.length > 0;
}

export interface IssuedForProvisioning {
  token: string;
  tokenId: string;
}

/**
 * Issues the agent's token while the work is still ours; null when it is not. On a takeover, live
 * tokens minted since this provisioning began belong to the interrupted attempt (their plaintext is
 * lost with it), so they are revoked in the same transaction.
 */
export async function issueToken(
  db: Database,
  tokens: TokenService,
  t: ProvisionTicket,
  takeOverSince: Date | null,
): Promise<IssuedForProvisioning | null> {
  return db.tx(async (tx) => {
    if (!(await stillCurrent(tx.sql, t))) return null;
    const events: NewEvent[] = [];
    if (takeOverSince) {
      const rows = await tx.sql.$queryRaw<Record<string, unknown>[]>`
        /* revokeInterruptedProvisioningTokens */
        UPDATE workspace_auth_tokens SET revoked_at = now()
         WHERE workspace_id = ${t.workspaceId}::uuid AND revoked_at IS NULL AND created_at >= ${takeOverSince}
        RETURNING *`;
      events.push(...tokenRevokedEvents(rows.map(tokenFromRow), 'provisioning'));
    }
    const issued = await tokens.issueForProvisioning(tx, t.workspaceId, 'provisioning');
    events.push(issued.event);
    await appendEvents(tx, events);
    return { token: issued.token, tokenId: issued.tokenInfo.id };
  });
}

/** Undo of issueToken when the provisioner lost or failed: no agent will ever use that token. */
export async function revokeIssuedToken(db: Database, workspaceId: string, tokenId: string): Promise<void> {
  await db.tx(async (tx) => {
    const rows = await tx.sql.$queryRaw<Record<string, unknown>[]>`
      /* revokeProvisioningToken */
      UPDATE workspace_auth_tokens SET revoked_at = now()
       WHERE id = ${tokenId}::uuid AND workspace_id = ${workspaceId}::uuid AND revoked_at IS NULL
      RETURNING *`;
    await appendEvents(tx, tokenRevokedEvents(rows.map(tokenFromRow), 'provisioning'));
  });
}

/** PROVISIONING → FAILED for this generation, with a generic reason (never the runtime's own text). */
export async function failProvisioning(db: Database, t: ProvisionTicket, reason: string): Promise<boolean> {
  return db.tx(async (tx) => {
    const moved = await transition(tx, t.workspaceId, {
      to: 'FAILED',
      from: ['PROVISIONING'],
      set: Prisma.sql`, last_sample_error = ${reason}, provision_claimed_by = NULL, provision_claimed_at = NULL`,
      where: Prisma.sql`AND w.generation = ${t.generation} AND w.provision_claimed_by = ${t.owner}`,
    });
    if (!moved) return false;
    const event = statusEvent(moved, { reason, generation: t.generation });
    if (event) await appendEvents(tx, [event]);
    return true;
  });
}

/**
 * Whether the restart that began this generation asked for resetConfig. Read back from its
 * WORKSPACE_RESTART_REQUESTED event when resuming work that a crashed process left unfinished.
 */
export async function resetConfigRequested(db: Database, t: Pick<ProvisionTicket, 'workspaceId' | 'generation'>): Promise<boolean> {
  const rows = await db.prisma.$queryRaw<unknown[]>`
    /* restartAskedForResetConfig */
    SELECT 1 FROM workspace_events
     WHERE workspace_id = ${t.workspaceId}::uuid AND type = 'WORKSPACE_RESTART_REQUESTED'
       AND payload->>'generation' = ${String(t.generation)} AND payload->>'resetConfig' = 'true'
     LIMIT 1`;
  return rows.length > 0;
}
