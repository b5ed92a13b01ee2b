// The workspace tree inside a transaction: the lock that serialises re-parenting and subtree deletes,
// locking a whole subtree, and the cycle check.
import type { Tx } from '../db/client.js';
import { workspaceFromRow, type WorkspaceRecord } from './record.js';

/** Arbitrary but fixed: moves and subtree deletes take it, so neither sees the tree change under it. */
export const TREE_LOCK_KEY = 7_405_112_002;

export async function lockTree(tx: Tx): Promise<void> {
  await tx.sql.$executeRaw`/* lockWorkspaceTree */ SELECT pg_advisory_xact_lock(${TREE_LOCK_KEY}::bigint)`;
}

/** Ids of the workspace and all its descendants (any status), read in this statement's snapshot. */
async function subtreeIds(tx: Tx, rootId: string): Promise<string[]> {
  const rows = await tx.sql.$queryRaw<{ id: string }[]>`
    /* subtreeIds */
    WITH RECURSIVE sub AS (
      SELECT id FROM workspaces WHERE id = ${rootId}::uuid
      UNION
      SELECT w.id FROM workspaces w JOIN sub ON w.parent_id = sub.id
    )
    SELECT id::text FROM sub`;
  return rows.map((r) => r.id);
}

/**
 * Locks the subtree (FOR UPDATE, in id order, so it cannot deadlock with other ordered lockers) and
 * returns its rows. A child inserted concurrently needs a key-share lock on its parent, which our
 * lock blocks; one that committed between the snapshot and the lock is caught by re-reading until
 * the set is stable.
 */
export async function lockSubtree(tx: Tx, rootId: string): Promise<WorkspaceRecord[]> {
  const locked = new Map<string, WorkspaceRecord>();
  for (;;) {
    const ids = (await subtreeIds(tx, rootId)).filter((id) => !locked.has(id));
    if (ids.length === 0) return [...locked.values()];
    const rows = await tx.sql.$queryRaw<Record<string, unknown>[]>`
      /* lockSubtree */
      SELECT * FROM workspaces WHERE id = ANY(${ids}::uuid[]) ORDER BY id FOR UPDATE`;
    for (const r of rows.map(workspaceFromRow)) locked.set(r.id, r);
  }
}

/** True when `candidateParentId` is `id` itself or one of its descendants. */
export async function wouldCreateCycle(tx: Tx, id: string, candidateParentId: string): Promise<boolean> {
  const rows = await tx.sql.$queryRaw<{ hit: boolean }[]>`
    /* parentWouldCreateCycle */
    WITH RECURSIVE ancestors AS (
      SELECT id, parent_id, 1 AS depth FROM workspaces WHERE id = ${candidateParentId}::uuid
      UNION ALL
      SELECT w.id, w.parent_id, a.depth + 1 FROM workspaces w JOIN ancestors a ON w.id = a.parent_id
       WHERE a.depth < 100000
    )
    SELECT EXISTS (SELECT 1 FROM ancestors WHERE id = ${id}::uuid) AS hit`;
  return rows[0]?.hit ?? false;
}

/** Locks a prospective parent against a concurrent delete; null when it does not exist. */
export async function lockParent(tx: Tx, parentId: string): Promise<WorkspaceRecord | null> {
  const rows = await tx.sql.$queryRaw<Record<string, unknown>[]>`
    /* lockParentWorkspace */
    SELECT * FROM workspaces WHERE id = ${parentId}::uuid FOR SHARE`;
  return rows[0] ? workspaceFromRow(rows[0]) : null;
}
