// restartWorkspace: from every status but REMOVED (NotFoundError) and PAUSED (ConflictError); a PAUSED
// ancestor is ParentPausedError and `external` ConflictError. An accepted restart always writes
// WORKSPACE_RESTART_REQUESTED, even from PROVISIONING (a second restart supersedes the first by
// generation); a refused one writes nothing.
import { Prisma } from '../db/client.js';
import { ConflictError, ParentPausedError } from '../errors.js';
import { appendEvents } from '../events/log.js';
import { EXTERNAL_RUNTIME, WORKSPACE_STATUSES, type WorkspaceRecord, type WorkspaceStatus } from '../workspaces/record.js';
import { beginProvisioning } from './begin-provisioning.js';
import type { LifecycleContext } from './context.js';
import { findLive, pausedAncestor, requireRuntime } from './lookup.js';

const RESTARTABLE: readonly WorkspaceStatus[] = WORKSPACE_STATUSES.filter((s) => s !== 'REMOVED' && s !== 'PAUSED');

/** The status rules of restart and resume-like wakes, in API.md's order. */
async function checkRestartable(ctx: LifecycleContext, workspace: WorkspaceRecord): Promise<void> {
  if (workspace.status === 'PAUSED') throw new ConflictError('workspace is paused; resume it instead');
  const parent = await pausedAncestor(ctx.db.prisma, workspace.id);
  if (parent) throw new ParentPausedError(parent);
  if (workspace.runtime === EXTERNAL_RUNTIME) throw new ConflictError('an external workspace has no container to restart');
}

export async function restartWorkspace(ctx: LifecycleContext, id: string, opts: { resetConfig?: boolean }): Promise<WorkspaceRecord> {
  await checkRestartable(ctx, await findLive(ctx.db.prisma, id));
  await requireRuntime(ctx.runtime);
  const resetConfig = opts.resetConfig === true;

  const moved = await ctx.db.tx(async (tx) => {
    // A pause committing after our check cascades over this row and wins by status; one committing
    // before it is seen here, under the same row locks the transition takes.
    const parent = await pausedAncestor(tx.sql, id);
    if (parent) throw new ParentPausedError(parent);
    const begun = await beginProvisioning(tx, [id], {
      from: RESTARTABLE,
      source: 'restart',
      where: Prisma.sql`AND w.runtime <> ${EXTERNAL_RUNTIME}`,
    });
    const m = begun.moved[0];
    if (!m) return null;
    const requested = {
      workspaceId: id,
      type: 'WORKSPACE_RESTART_REQUESTED',
      payload: { generation: m.workspace.generation, resetConfig, previousStatus: m.previousStatus },
    };
    await appendEvents(tx, [requested, ...begun.events]);
    tx.afterCommit(() => ctx.provisioningBegan(m.workspace, { resetConfig }));
    return m.workspace;
  });
  if (moved) return moved;
  // Lost a race between the checks and the write: answer as the checks would now.
  await checkRestartable(ctx, await findLive(ctx.db.prisma, id));
  throw new ConflictError('workspace changed while restarting; try again');
}
