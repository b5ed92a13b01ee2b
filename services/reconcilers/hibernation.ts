// Idle hibernation: container workspaces with hibernationIdleMinutes set, ONLINE or DEGRADED, whose
// agent has reported no active task for that long (last_active_at: the heartbeat keeps it at the last
// report of active_tasks > 0, and every (re)provisioning resets it) are hibernated through the same
// guarded claim as hibernateWorkspace. A workspace that got busy, restarted or paused meanwhile loses
// the claim and is skipped.
import type { LifecycleService } from '../lifecycle/service.js';
import type { Database } from '../db/client.js';
import { DomainError } from '../errors.js';
import type { Logger } from '../log.js';
import { settleLimited } from './limited.js';
import { PartsFailed, type LoopContext, type ReconcileLoop } from './loop.js';
import { findIdleWorkspaces } from './loops-sql.js';

const CONCURRENCY = 4;

export interface HibernationOptions {
  db: Database;
  lifecycle: Pick<LifecycleService, 'hibernate'>;
  log: Logger;
  intervalMs: number;
}

export function createHibernationLoop(opts: HibernationOptions): ReconcileLoop {
  const { db, lifecycle, log } = opts;
  return {
    name: 'hibernation',
    intervalMs: opts.intervalMs,
    needsRuntime: false,
    async tick(ctx: LoopContext) {
      const idle = await findIdleWorkspaces(db.prisma);
      // A hibernation waits for its container to stop: a few at a time, so one slow stop delays no other.
      const results = await settleLimited(idle, CONCURRENCY, async (id) => {
        if (ctx.signal.aborted) return false;
        const w = await lifecycle.hibernate(id, { source: 'idle' });
        return w.status === 'HIBERNATED';
      });
      const failures: Record<string, unknown> = {};
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') return;
        // A DomainError means it lost the claim (busy again, restarted, paused) or has no runtime now.
        if (r.reason instanceof DomainError) log.debug({ err: r.reason, workspaceId: idle[i] }, 'idle hibernation skipped');
        else failures[idle[i]!] = r.reason;
      });
      if (Object.keys(failures).length > 0) throw new PartsFailed(failures);
      return results.filter((r) => r.status === 'fulfilled' && r.value).length;
    },
  };
}
