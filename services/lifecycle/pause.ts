// pauseWorkspace: from every status but PAUSED (ConflictError) and REMOVED (NotFoundError), cascading
// through the descendants in one set-based transition. Containers are removed after the commit (a
// provisioner racing the pause sees PAUSED at its next check and removes its own); volumes stay.
import { ConflictError } from '../errors.js';
import { appendEvents } from '../events/log.js';
import { EXTERNAL_RUNTIME, WORKSPACE_STATUSES, type WorkspaceRecord, type WorkspaceStatus } from '../workspaces/record.js';
import { statusEvents, transitionMany } from '../workspaces/transition.js';
import { lockSubtree, lockTree } from '../workspaces/tree.js';
import { discardContainers } from './containers.js';
import type { LifecycleContext } from './context.js';
import { RootUnmoved, findLive, requireRuntime, subtree } from './lookup.js';

const PAUSABLE: readonly WorkspaceStatus[] = WORKSPACE_STATUSES.filter((s) => s !== 'REMOVED' && s !== 'PAUSED');

function checkPausable(w: WorkspaceRecord): void {
  if (w.status === 'PAUSED') throw new ConflictError('workspace is already paused');
}

export async function pauseWorkspace(ctx: LifecycleContext, id: string): Promise<{ workspace: WorkspaceRecord; pausedCount: number }> {
  checkPausable(await findLive(ctx.db.prisma, id));
  const tree = await subtree(ctx.db.prisma, id, false);
  if (tree.some((w) => w.runtime !== EXTERNAL_RUNTIME && w.status !== 'PAUSED')) await requireRuntime(ctx.runtime);

  const moved = await ctx.db
    .tx(async (tx) => {
      // The tree lock keeps a concurrent move or delete from changing the subtree under the cascade.
      await lockTree(tx);
      const ids = (await lockSubtree(tx, id)).filter((w) => w.status !== 'REMOVED').map((w) => w.id);
      const ts = await transitionMany(tx, ids, { to: 'PAUSED', from: PAUSABLE });
      const root = ts.find((t) => t.workspace.id === id.toLowerCase());
      // Throwing rolls back the descendants this statement already moved.
      if (!root) throw new RootUnmoved();
      await appendEvents(tx, statusEvents(ts, { source: 'pause', rootId: id }));
      return { root: root.workspace, all: ts.map((t) => t.workspace) };
    })
    .catch(async (err: unknown) => {
      if (!(err instanceof RootUnmoved)) throw err;
      checkPausable(await findLive(ctx.db.prisma, id));
      throw new ConflictError('workspace changed while pausing; try again');
    });

  // Done before answering, so a client that sees PAUSED also sees the containers gone.
  const targets = moved.all
    .filter((w) => w.runtime !== EXTERNAL_RUNTIME)
    .map((w) => ({ workspaceId: w.id, upToGeneration: w.generation }));
  const failed = await discardContainers(ctx.runtime, targets, ctx.log);
  if (failed.size > 0) ctx.log.warn({ workspaceIds: [...failed] }, 'paused workspaces whose containers could not be removed');
  return { workspace: moved.root, pausedCount: moved.all.length };
}
