// The event log. Ids must follow commit order: the insert is the last statement of its transaction and
// takes the events advisory lock first, so a transaction that got a lower id has always committed
// before one that got a higher id becomes visible (DESIGN.md). A reader resuming after id N therefore
// never later finds a committed id below N.
import type { Tx } from '../db/client.js';
import type { WorkspaceStatus } from '../workspaces/record.js';

/** Arbitrary but fixed: the one advisory lock that orders event ids. */
export const EVENTS_LOCK_KEY = 7_405_112_001;
export const EVENTS_CHANNEL = 'workspace_events';

export interface NewEvent {
  workspaceId: string;
  type: string;
  status?: WorkspaceStatus | null;
  previousStatus?: WorkspaceStatus | null;
  payload?: Record<string, unknown>;
}

export interface EventRecord {
  id: bigint;
  workspaceId: string;
  /** The workspace's parent when the event was written (workspaceStatusChanged(parentId:) filters on it). */
  parentId: string | null;
  type: string;
  status: WorkspaceStatus | null;
  previousStatus: WorkspaceStatus | null;
  payload: unknown;
  createdAt: Date;
}

export function eventFromRow(r: Record<string, unknown>): EventRecord {
  return {
    id: BigInt(r.id as string | number | bigint),
    workspaceId: r.workspace_id as string,
    parentId: (r.parent_id as string | null) ?? null,
    type: r.type as string,
    status: (r.status as WorkspaceStatus | null) ?? null,
    previousStatus: (r.previous_status as WorkspaceStatus | null) ?? null,
    payload: r.payload ?? {},
    createdAt: r.created_at as Date,
  };
}

/**
 * Appends events. Call it as the LAST statement(s) of the transaction: the advisory lock is held until
 * commit, and anything after it would widen the window in which other writers wait.
 */
export async function appendEvents(tx: Tx, events: readonly NewEvent[]): Promise<EventRecord[]> {
  if (events.length === 0) return [];
  await tx.sql.$executeRaw`/* lockEvents */ SELECT pg_advisory_xact_lock(${EVENTS_LOCK_KEY}::bigint)`;
  // Five arrays rather than a VALUES list: one statement whatever the number of events (a VALUES list
  // of five parameters per event stops at PostgreSQL's 65,535 bind parameters).
  const rows = await tx.sql.$queryRaw<Record<string, unknown>[]>`
    /* insertEvents */
    INSERT INTO workspace_events (workspace_id, type, status, previous_status, payload, parent_id)
    SELECT e.workspace_id, e.type, e.status, e.previous_status, e.payload,
           (SELECT w.parent_id FROM workspaces w WHERE w.id = e.workspace_id)
      FROM unnest(
      ${events.map((e) => e.workspaceId)}::uuid[],
      ${events.map((e) => e.type)}::text[],
      ${events.map((e) => e.status ?? null)}::workspace_status[],
      ${events.map((e) => e.previousStatus ?? null)}::workspace_status[],
      ${events.map((e) => JSON.stringify(e.payload ?? {}))}::jsonb[])
      WITH ORDINALITY AS e(workspace_id, type, status, previous_status, payload, n)
     ORDER BY e.n -- ids follow the order the caller gave
    RETURNING *`;
  const records = rows.map(eventFromRow).sort((a, b) => (a.id < b.id ? -1 : 1));
  const maxId = records[records.length - 1]!.id;
  if (tx.notify) {
    // Ids only: listeners read the rows from the log (DESIGN.md).
    await tx.sql.$executeRaw`/* notifyEvents */ SELECT pg_notify(${EVENTS_CHANNEL}, ${maxId.toString()})`;
  }
  tx.afterCommit(() => tx.eventsCommitted(maxId));
  return records;
}

export async function appendEvent(tx: Tx, event: NewEvent): Promise<EventRecord> {
  const [rec] = await appendEvents(tx, [event]);
  return rec!;
}

export function statusEventType(status: WorkspaceStatus): string {
  return `WORKSPACE_${status}`;
}
