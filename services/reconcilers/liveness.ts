// Liveness: ONLINE/DEGRADED workspaces, external ones included, that have not sent a heartbeat for
// LIVENESS_TIMEOUT_S go OFFLINE. One guarded UPDATE with the database clock, and its status events in
// the same transaction. A container workspace that went OFFLINE is then the health sweep's to restart.
import type { Database } from '../db/client.js';
import { statusEvents } from '../workspaces/transition.js';
import { appendEvents } from '../events/log.js';
import type { LoopContext, ReconcileLoop } from './loop.js';
import { markSilentWorkspacesOffline } from './loops-sql.js';

export interface LivenessOptions {
  db: Database;
  timeoutS: number;
  intervalMs: number;
}

export function createLivenessLoop(opts: LivenessOptions): ReconcileLoop {
  return {
    name: 'liveness',
    intervalMs: opts.intervalMs,
    needsRuntime: false,
    async tick(ctx: LoopContext) {
      return opts.db.tx(async (tx) => {
        const moved = await markSilentWorkspacesOffline(tx.sql, opts.timeoutS, ctx.leaderSince);
        await appendEvents(
          tx,
          statusEvents(moved, { source: 'liveness', reason: `no heartbeat for ${opts.timeoutS} s`, timeoutSeconds: opts.timeoutS }),
        );
        return moved.length;
      });
    },
  };
}
