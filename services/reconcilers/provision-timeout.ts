// Provision timeout: PROVISIONING for longer than PROVISION_TIMEOUT_S goes FAILED with a reason that
// says what actually happened (never claimed, claimed by an instance that died, container created but
// never started, started but the agent never registered), and the status event's payload names this
// loop as the source. The UPDATE re-checks status, generation and age, so a register or restart that
// commits first wins; when nothing matched, nothing is written. A FAILED workspace keeps no container:
// the timed-out generation's container is removed afterwards.
import type { Database } from '../db/client.js';
import { discardContainers } from '../lifecycle/containers.js';
import type { Logger } from '../log.js';
import { generationOf } from '../provisioning/container-spec.js';
import { STALE_CLAIM_S } from '../provisioning/guard.js';
import { liveOwners } from '../provisioning/owners.js';
import { LABEL_WORKSPACE_ID, containerNameFor, type ContainerInfo, type ContainerRuntime } from '../runtime/types.js';
import { EXTERNAL_RUNTIME } from '../workspaces/record.js';
import { statusEvents } from '../workspaces/transition.js';
import { appendEvents } from '../events/log.js';
import type { LoopContext, ReconcileLoop } from './loop.js';
import { failTimedOutProvisioning, findOverdueProvisioning, type ExplainedTimeout, type OverdueProvisioning } from './loops-sql.js';

export const PROVISION_TIMEOUT_SOURCE = 'provision-timeout';

const timedOut = (timeoutS: number) => `provisioning timed out after ${timeoutS} s`;

/** The reasons, one per thing that can have happened. */
export const timeoutReasons = {
  agentNeverRegistered: (s: number) =>
    `${timedOut(s)}: the container started but the agent never registered; check the container's logs and its connectivity to the server`,
  neverStarted: (s: number) => `${timedOut(s)}: its container was created but never started`,
  neverClaimed: (s: number) => `${timedOut(s)}: no instance ever claimed the work`,
  ownerDied: (s: number, owner: string) =>
    `${timedOut(s)}: instance ${owner} claimed the work and stopped before finishing it (no live database session, or no claim renewal for ${STALE_CLAIM_S} s)`,
  stillWorking: (s: number, owner: string) => `${timedOut(s)}: instance ${owner} was still provisioning it (no container was started)`,
};

/** The default, for external workspaces (no container, so nothing but the agent was awaited). */
export function provisionTimeoutReason(timeoutS: number): string {
  return timeoutReasons.agentNeverRegistered(timeoutS);
}

export interface ProvisionTimeoutOptions {
  db: Database;
  runtime: ContainerRuntime;
  log: Logger;
  timeoutS: number;
  intervalMs: number;
  /** This instance (a claim of its own is alive only while it renews it). */
  instanceId?: string;
}

export function createProvisionTimeoutLoop(opts: ProvisionTimeoutOptions): ReconcileLoop {
  const { db, runtime, log, timeoutS } = opts;
  const reason = provisionTimeoutReason(timeoutS);

  /** This generation's container, null when there is none, undefined when the runtime cannot tell. */
  async function containerOf(w: OverdueProvisioning): Promise<ContainerInfo | null | undefined> {
    if (runtime.kind === 'none' || !runtime.available()) return undefined;
    const c = await runtime.inspect(containerNameFor(w.id)).catch(() => undefined);
    if (!c) return c;
    return c.labels[LABEL_WORKSPACE_ID] === w.id && generationOf(c.labels) === w.generation ? c : null;
  }

  async function explain(w: OverdueProvisioning, live: Set<string>): Promise<string> {
    if (w.runtime === EXTERNAL_RUNTIME) return reason;
    const c = await containerOf(w);
    if (w.started || c?.running || c?.startedAt) return timeoutReasons.agentNeverRegistered(timeoutS);
    if (c && c.state === 'created') return timeoutReasons.neverStarted(timeoutS);
    if (w.owner === null) return timeoutReasons.neverClaimed(timeoutS);
    const alive = w.renewed && (db.embedded ? w.owner === opts.instanceId : live.has(w.owner));
    return alive ? timeoutReasons.stillWorking(timeoutS, w.owner) : timeoutReasons.ownerDied(timeoutS, w.owner);
  }

  return {
    name: 'provision-timeout',
    intervalMs: opts.intervalMs,
    needsRuntime: false,
    async tick(ctx: LoopContext) {
      const overdue = await findOverdueProvisioning(db.prisma, timeoutS, ctx.leaderSince, STALE_CLAIM_S);
      if (overdue.length === 0) return 0;
      const live = await liveOwners(db, overdue.flatMap((w) => (w.owner ? [w.owner] : [])));
      const explained: ExplainedTimeout[] = [];
      for (const w of overdue) explained.push({ id: w.id, generation: w.generation, reason: await explain(w, live) });
      const byId = new Map(explained.map((e) => [e.id, e.reason]));
      const failed = await db.tx(async (tx) => {
        const moved = await failTimedOutProvisioning(tx.sql, timeoutS, ctx.leaderSince, reason, explained);
        const events = moved.flatMap((m) =>
          statusEvents([m], { source: PROVISION_TIMEOUT_SOURCE, reason: byId.get(m.workspace.id) ?? reason, timeoutSeconds: timeoutS }),
        );
        await appendEvents(tx, events);
        return moved;
      });
      if (failed.length > 0) log.warn({ workspaces: failed.map((f) => ({ id: f.workspace.id, reason: f.workspace.lastSampleError })) }, 'provisioning timed out');
      if (failed.length > 0 && runtime.kind !== 'none') {
        // Only up to the failed generation: a restart committed since then keeps its new container.
        await discardContainers(
          runtime,
          failed.map((f) => ({ workspaceId: f.workspace.id, upToGeneration: f.workspace.generation })),
          log,
        );
      }
      return failed.length;
    },
  };
}
