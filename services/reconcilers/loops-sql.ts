// The statements of the liveness, provision-timeout, hibernation and health loops. Each state change
// is one guarded UPDATE in transition.ts's shape: candidates are locked FOR UPDATE in id order and
// PostgreSQL re-checks their predicate against the newest row version after the lock, so a heartbeat,
// restart or pause that commits first wins and the row is left alone. All clocks are the database's.
import { Prisma } from '../db/client.js';
import { workspaceFromRow, type WorkspaceStatus } from '../workspaces/record.js';
import type { Transitioned } from '../workspaces/transition.js';
import type { Sql } from './sweeper-sql.js';

function transitioned(rows: Record<string, unknown>[]): Transitioned[] {
  return rows.map((r) => ({ workspace: workspaceFromRow(r), previousStatus: r.previous_status as WorkspaceStatus }));
}

/**
 * ONLINE/DEGRADED workspaces (external ones included) silent for `timeoutS`. Silence counts from the
 * latest of the last heartbeat, the status change and `since` (when this instance began leading the
 * loop), so heartbeats lost while no server was up do not all turn OFFLINE at once on start-up.
 */
export async function markSilentWorkspacesOffline(sql: Sql, timeoutS: number, since: Date): Promise<Transitioned[]> {
  const rows = await sql.$queryRaw<Record<string, unknown>[]>`
    /* markSilentWorkspacesOffline */
    UPDATE workspaces w
       SET status = 'OFFLINE', status_changed_at = now(), updated_at = now()
      FROM (SELECT id, status FROM workspaces
             WHERE status IN ('ONLINE', 'DEGRADED')
               AND GREATEST(last_heartbeat_at, status_changed_at, ${since}::timestamptz)
                   < now() - make_interval(secs => ${timeoutS}::int)
             ORDER BY id FOR UPDATE) old
     WHERE w.id = old.id
    RETURNING old.status AS previous_status, w.*`;
  return transitioned(rows);
}

const overdue = (timeoutS: number, since: Date) =>
  Prisma.sql`GREATEST(status_changed_at, last_active_at, ${since}::timestamptz) < now() - make_interval(secs => ${timeoutS}::int)`;

export interface OverdueProvisioning {
  id: string;
  generation: number;
  runtime: string;
  owner: string | null;
  /** The claim was renewed within the last 10 s. */
  renewed: boolean;
  /** The provisioner started this generation's container. */
  started: boolean;
}

/** PROVISIONING past the timeout (read only: the facts its reason is made of). */
export function findOverdueProvisioning(sql: Sql, timeoutS: number, since: Date, staleClaimS: number): Promise<OverdueProvisioning[]> {
  return sql.$queryRaw<OverdueProvisioning[]>`
    /* findOverdueProvisioning */
    SELECT id::text AS id, generation, runtime, provision_claimed_by AS owner,
           COALESCE(provision_claimed_at >= now() - make_interval(secs => ${staleClaimS}::int), false) AS renewed,
           provision_started_at IS NOT NULL AS started
      FROM workspaces
     WHERE status = 'PROVISIONING' AND ${overdue(timeoutS, since)}
     ORDER BY id`;
}

export interface ExplainedTimeout {
  id: string;
  generation: number;
  reason: string;
}

/**
 * PROVISIONING for longer than `timeoutS` → FAILED. A provisioning period starts when the row entered
 * PROVISIONING or, for a re-provisioning from PROVISIONING (status unchanged), when beginProvisioning
 * reset last_active_at; `since` as above. The UPDATE re-checks status, generation and age. With
 * `explained`, only those rows, at the generation their reason was found for, each with its reason.
 */
export async function failTimedOutProvisioning(
  sql: Sql,
  timeoutS: number,
  since: Date,
  reason: string,
  explained?: readonly ExplainedTimeout[],
): Promise<Transitioned[]> {
  const only = explained !== undefined;
  const list = explained ?? [];
  const rows = await sql.$queryRaw<Record<string, unknown>[]>`
    /* failTimedOutProvisioning */
    UPDATE workspaces w
       SET status = 'FAILED', status_changed_at = now(), updated_at = now(), last_sample_error = COALESCE(old.reason, ${reason}),
           provision_claimed_by = NULL, provision_claimed_at = NULL
      FROM (SELECT ws.id, ws.status, ws.generation, r.reason, r.generation AS seen_generation FROM workspaces ws
              LEFT JOIN unnest(${list.map((e) => e.id)}::uuid[], ${list.map((e) => e.generation)}::int[], ${list.map((e) => e.reason)}::text[])
                     AS r(id, generation, reason) ON r.id = ws.id
             WHERE ws.status = 'PROVISIONING' AND ${overdue(timeoutS, since)}
               AND (NOT ${only} OR r.id IS NOT NULL)
             ORDER BY ws.id FOR UPDATE OF ws) old
     WHERE w.id = old.id AND w.status = 'PROVISIONING' AND w.generation = old.generation
       AND (NOT ${only} OR w.generation = old.seen_generation)
       AND GREATEST(w.status_changed_at, w.last_active_at, ${since}::timestamptz) < now() - make_interval(secs => ${timeoutS}::int)
    RETURNING old.status AS previous_status, w.*`;
  return transitioned(rows);
}

/** Container workspaces with hibernation set, ONLINE/DEGRADED, no active task for that many minutes. */
export async function findIdleWorkspaces(sql: Sql): Promise<string[]> {
  const rows = await sql.$queryRaw<{ id: string }[]>`
    /* findIdleWorkspaces */
    SELECT id::text AS id FROM workspaces
     WHERE status IN ('ONLINE', 'DEGRADED')
       AND runtime <> 'external'
       AND hibernation_idle_minutes IS NOT NULL
       AND active_tasks = 0
       AND last_active_at < now() - make_interval(mins => hibernation_idle_minutes)
     ORDER BY last_active_at, id`;
  return rows.map((r) => r.id);
}

export interface LiveContainerWorkspace {
  id: string;
  generation: number;
}

/** ONLINE/DEGRADED container workspaces: each should have a running container of its generation. */
export function findLiveContainerWorkspaces(sql: Sql): Promise<LiveContainerWorkspace[]> {
  return sql.$queryRaw<LiveContainerWorkspace[]>`
    /* findLiveContainerWorkspaces */
    SELECT id::text AS id, generation FROM workspaces
     WHERE status IN ('ONLINE', 'DEGRADED') AND runtime <> 'external'`;
}

/** Marks dead: still ONLINE/DEGRADED at the generation whose container was found not running. */
export async function markContainersDead(sql: Sql, dead: readonly LiveContainerWorkspace[]): Promise<Transitioned[]> {
  if (dead.length === 0) return [];
  const rows = await sql.$queryRaw<Record<string, unknown>[]>`
    /* markDeadContainerWorkspacesOffline */
    UPDATE workspaces w
       SET status = 'OFFLINE', status_changed_at = now(), updated_at = now()
      FROM (SELECT ws.id, ws.status FROM workspaces ws
              JOIN unnest(${dead.map((d) => d.id)}::uuid[], ${dead.map((d) => d.generation)}::int[]) AS d(id, generation)
                ON d.id = ws.id AND d.generation = ws.generation
             WHERE ws.status IN ('ONLINE', 'DEGRADED') AND ws.runtime <> 'external'
             ORDER BY ws.id FOR UPDATE OF ws) old
     WHERE w.id = old.id
    RETURNING old.status AS previous_status, w.*`;
  return transitioned(rows);
}

/** OFFLINE container workspaces with no PAUSED ancestor: the health sweep restarts them. */
export async function findRestartableOffline(sql: Sql): Promise<string[]> {
  const rows = await sql.$queryRaw<{ id: string }[]>`
    /* findRestartableOfflineWorkspaces */
    WITH RECURSIVE up(root, ancestor, depth) AS (
      SELECT id, parent_id, 1 FROM workspaces
       WHERE status = 'OFFLINE' AND runtime <> 'external' AND parent_id IS NOT NULL
      UNION ALL
      SELECT up.root, p.parent_id, up.depth + 1
        FROM up JOIN workspaces p ON p.id = up.ancestor
       WHERE p.parent_id IS NOT NULL AND up.depth < 1000
    )
    SELECT w.id::text AS id FROM workspaces w
     WHERE w.status = 'OFFLINE' AND w.runtime <> 'external'
       AND NOT EXISTS (SELECT 1 FROM up JOIN workspaces a ON a.id = up.ancestor
                        WHERE up.root = w.id AND a.status = 'PAUSED')
     ORDER BY w.status_changed_at, w.id`;
  return rows.map((r) => r.id);
}

/** FAILED container workspaces whose reason is only that no runtime was reachable. */
export async function findFailedForWantOfRuntime(sql: Sql, reason: string): Promise<string[]> {
  const rows = await sql.$queryRaw<{ id: string }[]>`
    /* findFailedForWantOfRuntime */
    SELECT id::text AS id FROM workspaces
     WHERE status = 'FAILED' AND runtime <> 'external' AND last_sample_error = ${reason}
     ORDER BY status_changed_at, id`;
  return rows.map((r) => r.id);
}
