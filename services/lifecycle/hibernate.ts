// hibernateWorkspace (and the idle hibernation loop): from ONLINE or DEGRADED only, never `external`
// (checked before active tasks), ActiveTasksError unless forced. HIBERNATING is written first, then the
// container goes, then HIBERNATED: each a guarded statement, so a restart in between wins.
import { Prisma } from '../db/client.js';
import { ActiveTasksError, ConflictError } from '../errors.js';
import { appendEvents } from '../events/log.js';
import { EXTERNAL_RUNTIME, type WorkspaceRecord } from '../workspaces/record.js';
import { statusEvent, transition } from '../workspaces/transition.js';
import { discardContainers } from './containers.js';
import type { LifecycleContext } from './context.js';
import { findLive, requireRuntime } from './lookup.js';

export const HIBERNATE_FAILED_REASON = 'the container could not be removed for hibernation';

export interface HibernateOptions {
  force?: boolean;
  source?: 'mutation' | 'idle';
}

function checkHibernatable(w: WorkspaceRecord, force: boolean): void {
  if (w.runtime === EXTERNAL_RUNTIME) throw new ConflictError('an external workspace cannot hibernate');
  if (w.status !== 'ONLINE' && w.status !== 'DEGRADED') throw new ConflictError(`workspace is ${w.status}, not ONLINE or DEGRADED`);
  if (w.activeTasks > 0 && !force) throw new ActiveTasksError(w.activeTasks);
}

export async function hibernateWorkspace(ctx: LifecycleContext, id: string, opts: HibernateOptions): Promise<WorkspaceRecord> {
  const force = opts.force === true;
  const source = opts.source ?? 'mutation';
  checkHibernatable(await findLive(ctx.db.prisma, id), force);
  await requireRuntime(ctx.runtime);

  const claimed = await ctx.db.tx(async (tx) => {
    const t = await transition(tx, id, {
      to: 'HIBERNATING',
      from: ['ONLINE', 'DEGRADED'],
      where: Prisma.sql`AND w.runtime <> ${EXTERNAL_RUNTIME} AND (${force} OR w.active_tasks = 0)`,
    });
    if (!t) return null;
    const event = statusEvent(t, { source, force });
    if (event) await appendEvents(tx, [event]);
    return t.workspace;
  });
  if (!claimed) {
    checkHibernatable(await findLive(ctx.db.prisma, id), force);
    throw new ConflictError('workspace changed while hibernating; try again');
  }

  const failed = await discardContainers(ctx.runtime, [{ workspaceId: id, upToGeneration: claimed.generation }], ctx.log);
  const generationGuard = Prisma.sql`AND w.generation = ${claimed.generation}`;
  const finished = await ctx.db.tx(async (tx) => {
    const t = failed.size === 0
      ? await transition(tx, id, { to: 'HIBERNATED', from: ['HIBERNATING'], set: Prisma.sql`, active_tasks = 0, current_task = NULL`, where: generationGuard })
      : await transition(tx, id, { to: 'FAILED', from: ['HIBERNATING'], set: Prisma.sql`, last_sample_error = ${HIBERNATE_FAILED_REASON}`, where: generationGuard });
    if (!t) return null;
    const event = statusEvent(t, failed.size === 0 ? { source } : { source, reason: HIBERNATE_FAILED_REASON });
    if (event) await appendEvents(tx, [event]);
    return t.workspace;
  });
  // Null: something newer (a restart, a delete) moved it meanwhile; report the workspace as it is now.
  return finished ?? (await findLive(ctx.db.prisma, id).catch(() => claimed));
}
