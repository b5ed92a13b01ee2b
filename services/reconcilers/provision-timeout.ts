// Provision timeout: PROVISIONING for longer than PROVISION_TIMEOUT_S goes FAILED with a reason, and
// the status event's payload names this loop as the source. The UPDATE re-checks status, generation
// and age, so a register or restart that commits first wins; when nothing matched, nothing is written.
// A FAILED workspace keeps no container: the timed-out generation's container is removed afterwards.
import type { Database } from '../db/client.js';
import { discardContainers } from '../lifecycle/containers.js';
import type { Logger } from '../log.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { statusEvents } from '../workspaces/transition.js';
import { appendEvents } from '../events/log.js';
import type { LoopContext, ReconcileLoop } from './loop.js';
import { failTimedOutProvisioning } from './loops-sql.js';

export const PROVISION_TIMEOUT_SOURCE = 'provision-timeout';

export function provisionTimeoutReason(timeoutS: number): string {
  return `provisioning timed out after ${timeoutS} s: the agent never registered; check the container's logs and its connectivity to the server`;
}

export interface ProvisionTimeoutOptions {
  db: Database;
  runtime: ContainerRuntime;
  log: Logger;
  timeoutS: number;
  intervalMs: number;
}

export function createProvisionTimeoutLoop(opts: ProvisionTimeoutOptions): ReconcileLoop {
  const { db, runtime, log, timeoutS } = opts;
  const reason = provisionTimeoutReason(timeoutS);
  return {
    name: 'provision-timeout',
    intervalMs: opts.intervalMs,
    needsRuntime: false,
    async tick(ctx: LoopContext) {
      const failed = await db.tx(async (tx) => {
        const moved = await failTimedOutProvisioning(tx.sql, timeoutS, ctx.leaderSince, reason);
        await appendEvents(tx, statusEvents(moved, { source: PROVISION_TIMEOUT_SOURCE, reason, timeoutSeconds: timeoutS }));
        return moved;
      });
      if (failed.length > 0 && runtime.kind !== 'none') {
        log.warn({ workspaceIds: failed.map((f) => f.workspace.id) }, 'provisioning timed out');
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
