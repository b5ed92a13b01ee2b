// Reads of workspaces by ids and of children (DataLoader batches); the list is in list-page.ts.
import type { Database } from '../db/client.js';
import { isUuid, workspaceFromRow, type WorkspaceRecord } from './record.js';

export async function readWorkspacesByIds(db: Database, ids: readonly string[]): Promise<(WorkspaceRecord | null)[]> {
  const uuids = ids.filter(isUuid);
  if (uuids.length === 0) return ids.map(() => null);
  const rows = await db.query<Record<string, unknown>>`
    /* readWorkspacesByIds */
    SELECT * FROM workspaces WHERE id = ANY(${uuids}::uuid[])`;
  const byId = new Map(rows.map(workspaceFromRow).map((w) => [w.id, w]));
  return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
}

/** Direct children that are not REMOVED, oldest first, for all these parents at once. */
export async function readChildren(db: Database, parentIds: readonly string[]): Promise<WorkspaceRecord[]> {
  const uuids = parentIds.filter(isUuid);
  if (uuids.length === 0) return [];
  const rows = await db.query<Record<string, unknown>>`
    /* readChildren */
    SELECT * FROM workspaces WHERE parent_id = ANY(${uuids}::uuid[]) AND status <> 'REMOVED'
     ORDER BY created_at, id`;
  return rows.map(workspaceFromRow);
}
