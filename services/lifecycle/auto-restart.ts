// The health sweep's automatic restart (DESIGN.md "One owner for restarts"): an OFFLINE container
// workspace is re-provisioned, unless it or an ancestor is PAUSED. The crash-loop counter lives in the
// row: the sixth automatic restart inside ten minutes becomes FAILED instead, and a FAILED workspace
// keeps no container.
import { Prisma } from '../db/client.js';
import { appendEvents } from '../events/log.js';
import { NO_RUNTIME_REASON } from '../provisioning/reasons.js';
import { EXTERNAL_RUNTIME, isUuid } from '../workspaces/record.js';
import { statusEvent, transition } from '../workspaces/transition.js';
import { CRASH_LOOP_MAX_RESTARTS, CRASH_LOOP_WINDOW_MIN, beginProvisioning, crashLoopExhausted } from './begin-provisioning.js';
import { discardContainers } from './containers.js';
import type { LifecycleContext } from './context.js';
import { pausedAncestor } from './lookup.js';

export const CRASH_LOOP_REASON = `crash loop: more than ${CRASH_LOOP_MAX_RESTARTS} automatic restarts within ${CRASH_LOOP_WINDOW_MIN} minutes`;

export async function autoRestartWorkspace(ctx: LifecycleContext, id: string): Promise<'restarted' | 'failed' | 'skipped'> {
  if (!isUuid(id) || !ctx.runtime.available()) return 'skipped';
  const containerOnly = Prisma.sql`AND w.runtime <> ${EXTERNAL_RUNTIME}`;
  const outcome = await ctx.db.tx(async (tx) => {
    if (await pausedAncestor(tx.sql, id)) return null;
    const failed = await transition(tx, id, {
      to: 'FAILED',
      from: ['OFFLINE'],
      set: Prisma.sql`, last_sample_error = ${CRASH_LOOP_REASON}, provision_claimed_by = NULL, provision_claimed_at = NULL`,
      where: Prisma.sql`${containerOnly} ${crashLoopExhausted}`,
    });
    if (failed) {
      const event = statusEvent(failed, { source: 'auto-restart', reason: CRASH_LOOP_REASON });
      if (event) await appendEvents(tx, [event]);
      return { kind: 'failed' as const, workspace: failed.workspace };
    }
    const begun = await beginProvisioning(tx, [id], { from: ['OFFLINE'], source: 'auto-restart', where: containerOnly });
    const m = begun.moved[0];
    if (!m) return null;
    await appendEvents(tx, begun.events);
    tx.afterCommit(() => ctx.provisioningBegan(m.workspace));
    return { kind: 'restarted' as const, workspace: m.workspace };
  });
  if (!outcome) return 'skipped';
  if (outcome.kind === 'failed') {
    const w = outcome.workspace;
    // Awaited: the sweep that called us may look for the container right after.
    await discardContainers(ctx.runtime, [{ workspaceId: w.id, upToGeneration: w.generation }], ctx.log);
  }
  return outcome.kind;
}

/**
 * API.md "Outages": a workspace that went FAILED only because no runtime was reachable is provisioned
 * again once one is (the health sweep's first tick after the runtime is back). The reason written by
 * the provisioner is the marker; any other FAILED stays FAILED.
 */
export async function reprovisionAfterRuntimeOutage(ctx: LifecycleContext, id: string): Promise<boolean> {
  if (!isUuid(id) || !ctx.runtime.available()) return false;
  const begun = await ctx.db.tx(async (tx) => {
    if (await pausedAncestor(tx.sql, id)) return null;
    const b = await beginProvisioning(tx, [id], {
      from: ['FAILED'],
      source: 'runtime-returned',
      where: Prisma.sql`AND w.runtime <> ${EXTERNAL_RUNTIME} AND w.last_sample_error = ${NO_RUNTIME_REASON}`,
    });
    const m = b.moved[0];
    if (!m) return null;
    await appendEvents(tx, b.events);
    tx.afterCommit(() => ctx.provisioningBegan(m.workspace));
    return m;
  });
  return begun !== null;
}
