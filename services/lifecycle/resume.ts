// resumeWorkspace: from PAUSED (with every paused descendant) or HIBERNATED (the wake); ConflictError
// otherwise, ParentPausedError under a PAUSED ancestor. Container workspaces are re-provisioned at a
// new generation; external ones go to AWAITING_AGENT and keep their token.
import { Prisma } from '../db/client.js';
import { ConflictError, ParentPausedError } from '../errors.js';
import { appendEvents } from '../events/log.js';
import { EXTERNAL_RUNTIME, type WorkspaceRecord } from '../workspaces/record.js';
import { statusEvents, transitionMany } from '../workspaces/transition.js';
import { lockTree } from '../workspaces/tree.js';
import { beginProvisioning } from './begin-provisioning.js';
import type { LifecycleContext } from './context.js';
import { RootUnmoved, findLive, pausedAncestor, requireRuntime, subtree } from './lookup.js';

async function checkResumable(ctx: LifecycleContext, w: WorkspaceRecord): Promise<void> {
  if (w.status !== 'PAUSED' && w.status !== 'HIBERNATED') throw new ConflictError(`workspace is ${w.status}, not PAUSED or HIBERNATED`);
  const parent = await pausedAncestor(ctx.db.prisma, w.id);
  if (parent) throw new ParentPausedError(parent);
}

export async function resumeWorkspace(ctx: LifecycleContext, id: string): Promise<{ workspace: WorkspaceRecord; resumedCount: number }> {
  const root = await findLive(ctx.db.prisma, id);
  await checkResumable(ctx, root);
  const from = root.status;
  const planned = from === 'PAUSED' ? await subtree(ctx.db.prisma, id, true) : [root];
  if (planned.some((w) => w.runtime !== EXTERNAL_RUNTIME)) await requireRuntime(ctx.runtime);

  try {
    return await ctx.db.tx(async (tx) => {
      await lockTree(tx);
      const parent = await pausedAncestor(tx.sql, id);
      if (parent) throw new ParentPausedError(parent);
      const targets = from === 'PAUSED' ? await subtree(tx.sql, id, true) : [root];
      const containerIds = targets.filter((w) => w.runtime !== EXTERNAL_RUNTIME).map((w) => w.id);
      const externalIds = targets.filter((w) => w.runtime === EXTERNAL_RUNTIME).map((w) => w.id);
      const begun = await beginProvisioning(tx, containerIds, {
        from: [from],
        source: 'resume',
        where: Prisma.sql`AND w.runtime <> ${EXTERNAL_RUNTIME}`,
      });
      const awaiting = await transitionMany(tx, externalIds, { to: 'AWAITING_AGENT', from: [from] });
      const all = [...begun.moved, ...awaiting];
      const moved = all.find((t) => t.workspace.id === id.toLowerCase());
      if (!moved) throw new RootUnmoved();
      await appendEvents(tx, [...begun.events, ...statusEvents(awaiting, { source: 'resume' })]);
      tx.afterCommit(() => {
        for (const m of begun.moved) ctx.provisioningBegan(m.workspace);
      });
      return { workspace: moved.workspace, resumedCount: all.length };
    });
  } catch (err) {
    if (!(err instanceof RootUnmoved)) throw err;
    await checkResumable(ctx, await findLive(ctx.db.prisma, id));
    throw new ConflictError('workspace changed while resuming; try again');
  }
}
