// Reads behind the frontend fields of a workspace and the fleet overview: child counts, which
// workspaces sit under a PAUSED ancestor (allowedActions), and counts by status (workspaceCounts).
import { Prisma, type Database } from '../db/client.js';
import { isUuid, WORKSPACE_STATUSES, type WorkspaceStatus } from './record.js';

/** Lifecycle walks stop this deep: it only bounds a walk over a corrupted (cyclic) parent chain. */
const MAX_DEPTH = 1000;

/** Non-REMOVED direct children per parent, in the order of `parentIds` (the rule of Workspace.children). */
export async function readChildCounts(db: Database, parentIds: readonly string[]): Promise<number[]> {
  const uuids = parentIds.filter(isUuid);
  if (uuids.length === 0) return parentIds.map(() => 0);
  const rows = await db.query<{ parent_id: string; n: number }>`
    /* readChildCounts */
    SELECT parent_id, count(*)::int AS n FROM workspaces
     WHERE parent_id = ANY(${uuids}::uuid[]) AND status <> 'REMOVED'
     GROUP BY parent_id`;
  const byId = new Map(rows.map((r) => [r.parent_id, r.n]));
  return parentIds.map((id) => byId.get(id.toLowerCase()) ?? 0);
}

/** Whether each workspace has a PAUSED ancestor (the ParentPausedError rule of restart and resume). */
export async function readUnderPausedAncestor(db: Database, ids: readonly string[]): Promise<boolean[]> {
  const uuids = ids.filter(isUuid);
  if (uuids.length === 0) return ids.map(() => false);
  const rows = await db.query<{ start: string }>`
    /* readUnderPausedAncestor */
    WITH RECURSIVE up AS (
      SELECT id AS start, parent_id, 1 AS depth FROM workspaces WHERE id = ANY(${uuids}::uuid[])
      UNION ALL
      SELECT up.start, w.parent_id, up.depth + 1 FROM workspaces w JOIN up ON w.id = up.parent_id
       WHERE w.status <> 'PAUSED' AND up.depth < ${MAX_DEPTH}
    )
    SELECT DISTINCT up.start FROM up JOIN workspaces w ON w.id = up.parent_id WHERE w.status = 'PAUSED'`;
  const paused = new Set(rows.map((r) => r.start));
  return ids.map((id) => paused.has(id.toLowerCase()));
}

export interface StatusCount {
  status: WorkspaceStatus;
  count: number;
}

/** Every status but REMOVED, in declaration order, zeros included; with a parent: its direct children. */
export async function readStatusCounts(db: Database, parentId: string | null): Promise<StatusCount[]> {
  const counted = new Map<string, number>();
  // An unknown (non-UUID) parent has no children: all zeros, never an error of its own.
  if (parentId === null || isUuid(parentId)) {
    // Two statement texts, not `$1 IS NULL OR …`: a prepared statement's generic plan could not use
    // the parent index for the latter.
    const parent = parentId === null ? Prisma.empty : Prisma.sql`AND parent_id = ${parentId}::uuid`;
    const rows = await db.query<{ status: string; n: number }>`
      /* readStatusCounts */
      SELECT status::text, count(*)::int AS n FROM workspaces
       WHERE status <> 'REMOVED' ${parent}
       GROUP BY status`;
    for (const r of rows) counted.set(r.status, r.n);
  }
  return WORKSPACE_STATUSES.filter((s) => s !== 'REMOVED').map((status) => ({ status, count: counted.get(status) ?? 0 }));
}
