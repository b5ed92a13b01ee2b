// deleteWorkspace: REMOVED is written first, for the whole subtree, with its tokens revoked, in one
// transaction; containers and volumes are removed after commit. `purge` deletes the rows (events stay).
import { Prisma, type Tx } from '../db/client.js';
import { ConfirmationRequiredError, NotFoundError } from '../errors.js';
import { appendEvents, type NewEvent } from '../events/log.js';
import { tokenFromRow } from '../tokens/records.js';
import { tokenRevokedEvents } from '../tokens/service.js';
import { isUuid, WORKSPACE_STATUSES } from './record.js';
import type { WorkspaceServiceDeps } from './service.js';
import { statusEvents, transitionMany } from './transition.js';
import { lockSubtree, lockTree } from './tree.js';

export interface DeletedWorkspaces {
  removedCount: number;
  purged: boolean;
}

const LIVE_STATUSES = WORKSPACE_STATUSES.filter((s) => s !== 'REMOVED');

async function purgeRows(tx: Tx, ids: string[]): Promise<NewEvent[]> {
  const rows = await tx.sql.$queryRaw<{ id: string }[]>`
    /* purgeWorkspaces */
    DELETE FROM workspaces WHERE id = ANY(${ids}::uuid[]) AND status = 'REMOVED' RETURNING id::text`;
  return rows.map((r) => ({ workspaceId: r.id, type: 'WORKSPACE_PURGED', payload: {} }));
}

export async function deleteWorkspace(
  deps: WorkspaceServiceDeps,
  id: string,
  opts: { confirm: boolean; purge: boolean },
): Promise<DeletedWorkspaces> {
  if (!isUuid(id)) throw new NotFoundError();
  const result = await deps.db.tx(async (tx) => {
    await lockTree(tx);
    const subtree = await lockSubtree(tx, id);
    const root = subtree.find((w) => w.id === id.toLowerCase());
    if (!root) throw new NotFoundError();
    if (root.status === 'REMOVED') {
      // A tombstone: only purge touches it.
      if (!opts.purge) throw new NotFoundError();
      const events = await purgeRows(tx, subtree.map((w) => w.id));
      await appendEvents(tx, events);
      // Cleanup is idempotent; asking again covers a container a crash left behind.
      return { cleanupIds: events.map((e) => e.workspaceId), removedCount: events.length, purged: true };
    }
    const children = subtree.filter((w) => w.parentId === root.id && w.status !== 'REMOVED');
    if (children.length > 0 && !opts.confirm) throw new ConfirmationRequiredError(children);

    const live = subtree.filter((w) => w.status !== 'REMOVED').map((w) => w.id);
    const moved = await transitionMany(tx, live, {
      to: 'REMOVED',
      from: LIVE_STATUSES,
      set: Prisma.sql`, removed_at = now(), provision_claimed_by = NULL, provision_claimed_at = NULL`,
    });
    const removedIds = moved.map((m) => m.workspace.id);
    const revoked = await tx.sql.$queryRaw<Record<string, unknown>[]>`
      /* revokeTokensOfRemoved */
      UPDATE workspace_auth_tokens SET revoked_at = now()
       WHERE workspace_id = ANY(${removedIds}::uuid[]) AND revoked_at IS NULL
      RETURNING *`;
    const events = [...statusEvents(moved, { source: 'delete' }), ...tokenRevokedEvents(revoked.map(tokenFromRow), 'delete')];
    if (opts.purge) events.push(...(await purgeRows(tx, subtree.map((w) => w.id))));
    await appendEvents(tx, events);
    return { cleanupIds: removedIds, removedCount: removedIds.length, purged: opts.purge };
  });
  if (result.cleanupIds.length > 0) deps.lifecycle.cleanupRemoved(result.cleanupIds);
  return { removedCount: result.removedCount, purged: result.purged };
}
