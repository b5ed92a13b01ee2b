// Every state change is one guarded statement (DESIGN.md): the row moves only if its status is still
// one of `from`, and the previous status comes back from the same statement, so nothing is read and
// then written across an await. Zero rows means someone else won.
import { Prisma, type Tx } from '../db/client.js';
import type { NewEvent } from '../events/log.js';
import { statusEventType } from '../events/log.js';
import { workspaceFromRow, type WorkspaceRecord, type WorkspaceStatus } from './record.js';

export interface Transitioned {
  workspace: WorkspaceRecord;
  previousStatus: WorkspaceStatus;
}

export interface TransitionArgs {
  to: WorkspaceStatus;
  from: readonly WorkspaceStatus[];
  /** Extra assignments, e.g. Prisma.sql`, generation = w.generation + 1` (leading comma included). */
  set?: Prisma.Sql;
  /** Extra guard, e.g. Prisma.sql`AND w.generation = ${g}`. */
  where?: Prisma.Sql;
}

/** Moves the rows with these ids that are still in `from`; returns those that moved. */
export async function transitionMany(tx: Tx, ids: readonly string[], args: TransitionArgs): Promise<Transitioned[]> {
  if (ids.length === 0) return [];
  const rows = await tx.sql.$queryRaw<Record<string, unknown>[]>`
    /* transitionWorkspaces */
    UPDATE workspaces w
       SET status = ${args.to}::workspace_status,
           status_changed_at = CASE WHEN old.status <> ${args.to}::workspace_status THEN now() ELSE w.status_changed_at END,
           updated_at = now()
           ${args.set ?? Prisma.empty}
      FROM (SELECT id, status FROM workspaces WHERE id = ANY(${[...ids]}::uuid[]) ORDER BY id FOR UPDATE) old
     WHERE w.id = old.id
       AND old.status = ANY(${[...args.from]}::workspace_status[])
       ${args.where ?? Prisma.empty}
    RETURNING old.status AS previous_status, w.*`;
  return rows.map((r) => ({ workspace: workspaceFromRow(r), previousStatus: r.previous_status as WorkspaceStatus }));
}

export async function transition(tx: Tx, id: string, args: TransitionArgs): Promise<Transitioned | null> {
  const [row] = await transitionMany(tx, [id], args);
  return row ?? null;
}

/** The status event of a transition, or null when the status did not change (API.md: no event then). */
export function statusEvent(t: Transitioned, payload: Record<string, unknown> = {}): NewEvent | null {
  if (t.previousStatus === t.workspace.status) return null;
  return {
    workspaceId: t.workspace.id,
    type: statusEventType(t.workspace.status),
    status: t.workspace.status,
    previousStatus: t.previousStatus,
    payload,
  };
}

export function statusEvents(ts: Transitioned[], payload: Record<string, unknown> = {}): NewEvent[] {
  return ts.map((t) => statusEvent(t, payload)).filter((e): e is NewEvent => e !== null);
}
