// The one guarded statement behind register, heartbeat and update-card. It answers the contract's
// check order (404 → 401 → 409) and performs the write in the same statement, so there is no window
// between "the token is live" and "the row moved".
//
// Why not transition(): the target status depends on the status the row is locked in (a heartbeat
// from DEGRADED recovers on a different threshold than one from ONLINE degrades), and the token check
// needs the snapshot comparison below. The shape is transition()'s: a FOR UPDATE subselect, a status
// guard, the previous status returned by the statement itself.
//
// The race it closes: a restart revokes the tokens and writes PROVISIONING (generation + 1) in one
// transaction. In READ COMMITTED our token check reads the statement's snapshot, while FOR UPDATE
// waits for the restart and then sees the new row. Were that restart committed between the two, an
// old agent would flip the fresh PROVISIONING row ONLINE. So the snapshot's (status, generation) must
// equal the locked row's; when they differ the caller retries with a fresh snapshot.
import { Prisma, type Database, type TxClient } from '../db/client.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { WorkspaceStatus } from '../workspaces/record.js';

/** Statuses in which the agent endpoints write; PAUSED/HIBERNATING/HIBERNATED refuse, REMOVED is 404. */
export const AGENT_WRITABLE: readonly WorkspaceStatus[] = [
  'PROVISIONING',
  'AWAITING_AGENT',
  'OFFLINE',
  'FAILED',
  'ONLINE',
  'DEGRADED',
];

export interface AgentWriteArgs {
  workspaceId: string;
  /** sha256 of the presented token; null when none was presented (never matches). */
  tokenHash: string | null;
  /** The status to move to, from DEGRADED and from every other writable status; null keeps it. */
  target: { fromDegraded: WorkspaceStatus; otherwise: WorkspaceStatus } | null;
  /** Column assignments, leading comma included. */
  set: Prisma.Sql;
  /** The card being written, to tell whether it changed (register: an event only when it did). */
  card: string | null;
  /** Over the row before the write (`w`): true when the write changes what workspaceActivity reports. */
  activity?: Prisma.Sql;
  /**
   * Write only when nothing needs an event (status and card unchanged): such a write is complete
   * without a transaction. Otherwise the caller reruns the statement inside one, events last.
   */
  onlyWithoutEvent: boolean;
}

export type AgentWriteResult =
  | { kind: 'not_found' }
  | { kind: 'unauthorized' }
  | { kind: 'refused'; status: WorkspaceStatus }
  /** The row changed between the statement's snapshot and its lock: run it again. */
  | { kind: 'raced' }
  /** onlyWithoutEvent was set and the write would need an event: nothing was written. */
  | { kind: 'needs_event' }
  | { kind: 'written'; previousStatus: WorkspaceStatus; status: WorkspaceStatus; cardChanged: boolean; activityChanged: boolean };

interface Row {
  snap_status: WorkspaceStatus | null;
  token_ok: boolean | null;
  locked_status: WorkspaceStatus | null;
  same_generation: boolean | null;
  next_status: WorkspaceStatus | null;
  card_changed: boolean | null;
  activity_changed: boolean | null;
  written: number;
}

type RawClient = Pick<PrismaClient, '$queryRaw'> | TxClient;

/** The statement, built once per call; run through Prisma ($queryRaw) or the pool (agentWriteFast). */
export function agentWriteSql(a: AgentWriteArgs): Prisma.Sql {
  const keep = a.target === null;
  const fromDegraded = a.target?.fromDegraded ?? 'DEGRADED';
  const otherwise = a.target?.otherwise ?? 'ONLINE';
  return Prisma.sql`
    /* agentWrite */
    WITH snap AS (
      SELECT w.status, w.generation,
             EXISTS (SELECT 1 FROM workspace_auth_tokens t
                      WHERE t.workspace_id = w.id AND t.token_hash = ${a.tokenHash}::text AND t.revoked_at IS NULL) AS token_ok
        FROM workspaces w WHERE w.id = ${a.workspaceId}::uuid
    ), old AS (
      SELECT w.id, w.status, w.generation,
             (${a.card}::jsonb IS NOT NULL AND w.agent_card IS DISTINCT FROM ${a.card}::jsonb) AS card_changed,
             ${a.activity ?? Prisma.sql`false`} AS activity_changed
        FROM workspaces w WHERE w.id = ${a.workspaceId}::uuid FOR UPDATE
    ), next AS (
      SELECT old.id, old.status AS previous_status, old.card_changed,
             CASE WHEN ${keep}::boolean THEN old.status
                  WHEN old.status = 'DEGRADED' THEN ${fromDegraded}::workspace_status
                  ELSE ${otherwise}::workspace_status END AS status
        FROM old JOIN snap ON snap.status = old.status AND snap.generation = old.generation
       WHERE snap.token_ok AND old.status = ANY(${[...AGENT_WRITABLE]}::workspace_status[])
    ), upd AS (
      UPDATE workspaces w
         SET status = next.status,
             status_changed_at = CASE WHEN next.status <> next.previous_status THEN now() ELSE w.status_changed_at END,
             updated_at = now()
             ${a.set}
        FROM next
       WHERE w.id = next.id
         AND (NOT ${a.onlyWithoutEvent}::boolean OR (next.status = next.previous_status AND NOT next.card_changed))
      RETURNING w.id
    ), bump AS (
      -- last_used_at at most once a minute; after the workspace row is locked (the lock order restart uses)
      UPDATE workspace_auth_tokens t SET last_used_at = now()
       WHERE t.workspace_id = ${a.workspaceId}::uuid AND t.token_hash = ${a.tokenHash}::text AND t.revoked_at IS NULL
         AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '60 seconds')
         AND EXISTS (SELECT 1 FROM upd)
    )
    SELECT snap.status::text AS snap_status, snap.token_ok, old.status::text AS locked_status,
           (old.generation = snap.generation) AS same_generation, next.status::text AS next_status,
           old.card_changed, old.activity_changed, (SELECT count(*) FROM upd)::int AS written
      FROM (SELECT 1) one
      LEFT JOIN snap ON true LEFT JOIN old ON true LEFT JOIN next ON true`;
}

/** Inside a transaction (the path that writes events). */
export async function agentWrite(sql: RawClient, a: AgentWriteArgs): Promise<AgentWriteResult> {
  const rows = await sql.$queryRaw<Row[]>(agentWriteSql(a));
  return classify(rows[0]!);
}

/**
 * Outside a transaction (the steady-state heartbeat, which writes no event): the same statement through
 * db.query, which sends it as a named prepared statement. This is the hottest query of the server
 * (every agent, every interval), and planning its five CTEs costs more than executing them; Prisma
 * cannot name a statement.
 */
export async function agentWriteOnPool(db: Database, a: AgentWriteArgs): Promise<AgentWriteResult> {
  const [row] = await db.query<Row>(agentWriteSql(a));
  return classify(row!);
}

function classify(r: Row): AgentWriteResult {
  const locked = r.locked_status;
  if (locked === null || locked === 'REMOVED') return { kind: 'not_found' };
  if (r.snap_status !== locked || !r.same_generation) return { kind: 'raced' };
  if (!r.token_ok) return { kind: 'unauthorized' };
  if (!AGENT_WRITABLE.includes(locked)) return { kind: 'refused', status: locked };
  if (r.written === 0) return { kind: 'needs_event' };
  return { kind: 'written', previousStatus: locked, status: r.next_status!, cardChanged: !!r.card_changed, activityChanged: !!r.activity_changed };
}

/** The 409 message for a refusing status (API.md: HIBERNATING counts as hibernated). */
export function refusalMessage(status: WorkspaceStatus): string {
  return status === 'PAUSED' ? 'workspace is paused' : 'workspace is hibernated';
}
