// Reads behind the lifecycle's checks, in API.md's order: existence (NotFoundError), then the status
// rules (ConflictError, ParentPausedError), then the runtime (RuntimeUnavailableError). They only
// choose which error to answer; every write is still its own guarded statement.
import type { Database, Tx } from '../db/client.js';
import { NotFoundError, RuntimeUnavailableError } from '../errors.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { isUuid, workspaceFromRow, type WorkspaceRecord } from '../workspaces/record.js';

type Sql = Database['prisma'] | Tx['sql'];

/** Deep enough for any real hierarchy; it only bounds a walk over a corrupted (cyclic) parent chain. */
const MAX_DEPTH = 1000;

/** The workspace, unless unknown, not a UUID or REMOVED (all NotFoundError for mutations). */
export async function findLive(sql: Sql, id: string): Promise<WorkspaceRecord> {
  if (!isUuid(id)) throw new NotFoundError();
  const rows = await sql.$queryRaw<Record<string, unknown>[]>`
    /* findWorkspaceForLifecycle */
    SELECT * FROM workspaces WHERE id = ${id}::uuid AND status <> 'REMOVED'`;
  if (!rows[0]) throw new NotFoundError();
  return workspaceFromRow(rows[0]);
}

/** The nearest PAUSED ancestor, or null. */
export async function pausedAncestor(sql: Sql, id: string): Promise<WorkspaceRecord | null> {
  const rows = await sql.$queryRaw<Record<string, unknown>[]>`
    /* pausedAncestor */
    WITH RECURSIVE up AS (
      SELECT parent_id, 1 AS depth FROM workspaces WHERE id = ${id}::uuid
      UNION ALL
      SELECT w.parent_id, up.depth + 1 FROM workspaces w JOIN up ON w.id = up.parent_id
       WHERE up.depth < ${MAX_DEPTH}
    )
    SELECT w.* FROM up JOIN workspaces w ON w.id = up.parent_id
     WHERE w.status = 'PAUSED'
     ORDER BY up.depth LIMIT 1`;
  return rows[0] ? workspaceFromRow(rows[0]) : null;
}

/**
 * The root and its descendants that are not REMOVED, root first. `throughPausedOnly` descends only
 * through PAUSED workspaces (resume wakes the paused part of the tree).
 */
export async function subtree(sql: Sql, rootId: string, throughPausedOnly: boolean): Promise<WorkspaceRecord[]> {
  const rows = await sql.$queryRaw<Record<string, unknown>[]>`
    /* workspaceSubtree */
    WITH RECURSIVE down AS (
      SELECT id, 0 AS depth FROM workspaces WHERE id = ${rootId}::uuid
      UNION
      SELECT w.id, down.depth + 1 FROM workspaces w JOIN down ON w.parent_id = down.id
       WHERE w.status <> 'REMOVED' AND (NOT ${throughPausedOnly} OR w.status = 'PAUSED')
         AND down.depth < ${MAX_DEPTH}
    )
    SELECT w.* FROM workspaces w JOIN (SELECT id, min(depth) AS depth FROM down GROUP BY id) d ON d.id = w.id
     ORDER BY d.depth, w.created_at, w.id`;
  return rows.map(workspaceFromRow);
}

/**
 * The runtime's circuit, never a call: while the runtime is known unreachable a lifecycle mutation
 * answers at once (API.md "Outages"); a background probe notices when it is back.
 */
export async function requireRuntime(runtime: ContainerRuntime): Promise<void> {
  if (runtime.kind === 'none' || !runtime.available()) throw new RuntimeUnavailableError();
}

/** Thrown inside a transaction whose root row did not move, so the rows it did move roll back. */
export class RootUnmoved extends Error {
  constructor() {
    super('the workspace did not move');
    this.name = 'RootUnmoved';
  }
}
