// Health and auto-restart (DESIGN.md "One owner for restarts"). Deaths are noticed two ways: the
// runtime's die/oom/stop events (label-filtered by the runtime), and a periodic sweep that catches what
// the events missed. Either marks the workspace OFFLINE with a guarded statement; the same loop then
// restarts OFFLINE container workspaces through lifecycle.autoRestart, which owns the crash-loop count
// and skips a workspace under a PAUSED ancestor.
import type { Database } from '../db/client.js';
import type { LifecycleService } from '../lifecycle/service.js';
import type { Logger } from '../log.js';
import { generationOf } from '../provisioning/container-spec.js';
import { LABEL_MANAGED, LABEL_WORKSPACE_ID, containerNameFor, type ContainerInfo, type ContainerRuntime, type RuntimeEvent } from '../runtime/types.js';
import { isUuid } from '../workspaces/record.js';
import { statusEvents } from '../workspaces/transition.js';
import { appendEvents } from '../events/log.js';
import { createEventStreamKeeper, type EventStreamKeeper } from './event-stream.js';
import { markContainerEventDeath } from './container-death.js';
import { PartsFailed, TickSkipped, type LoopContext, type ReconcileLoop } from './loop.js';
import { NO_RUNTIME_REASON } from '../provisioning/reasons.js';
import { findFailedForWantOfRuntime, findLiveContainerWorkspaces, findRestartableOffline, markContainersDead, type LiveContainerWorkspace } from './loops-sql.js';

export interface HealthOptions {
  db: Database;
  runtime: ContainerRuntime;
  lifecycle: Pick<LifecycleService, 'autoRestart' | 'reprovisionAfterRuntimeOutage'>;
  log: Logger;
  intervalMs: number;
  /** Event stream reconnect backoff (default 1 s doubling to 30 s). */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** How long after a container death its restart waits (default 2 s); see scheduleRestart. */
  restartSettleMs?: number;
}

export interface HealthLoop extends ReconcileLoop {
  /** The periodic sweep plus the restarts; also what runs after every stream reconnect. */
  reconcile(): Promise<number>;
  /** Resolves once every event received so far has been handled (tests). */
  drained(): Promise<void>;
  readonly stream: EventStreamKeeper;
}

const DEATHS = new Set(['die', 'oom', 'stop']);

export function createHealthLoop(opts: HealthOptions): HealthLoop {
  const { db, runtime, lifecycle, log } = opts;

  // Ticks, reconciles after reconnects and event handling never overlap: each reads, then writes
  // guarded statements, and running them one at a time keeps the logs and counts readable.
  let chain: Promise<unknown> = Promise.resolve();
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const p = chain.then(fn, fn);
    chain = p.catch(() => {});
    return p;
  }

  /** A container is alive only when it runs and carries the workspace's current generation. */
  const aliveFor = (w: LiveContainerWorkspace, c: ContainerInfo | null | undefined) =>
    !!c && c.running && c.labels[LABEL_WORKSPACE_ID] === w.id && generationOf(c.labels) === w.generation;

  /** The ONLINE/DEGRADED workspaces whose container is definitively not running. */
  async function findDead(): Promise<LiveContainerWorkspace[]> {
    const live = await findLiveContainerWorkspaces(db.prisma);
    if (live.length === 0) return [];
    // One listing for all; a failure throws and nothing is marked (a daemon error is never a death).
    const listed = await runtime.list([`${LABEL_MANAGED}=true`]);
    const suspects = live.filter((w) => !listed.some((c) => aliveFor(w, c)));
    const dead: LiveContainerWorkspace[] = [];
    for (const w of suspects) {
      // Confirmed one by one: an inspect error leaves the workspace alone.
      const c = await runtime.inspect(containerNameFor(w.id)).catch(() => undefined);
      if (c !== undefined && !aliveFor(w, c)) dead.push(w);
    }
    return dead;
  }

  async function restartOffline(failures: Record<string, unknown>): Promise<number> {
    let acted = 0;
    for (const id of await findRestartableOffline(db.prisma)) {
      try {
        if ((await lifecycle.autoRestart(id)) !== 'skipped') acted++;
      } catch (err) {
        failures[`restart ${id}`] = err;
      }
    }
    return acted;
  }

  /** The runtime answers (reconcile runs only then): FAILED-for-want-of-a-runtime goes again. */
  async function reprovisionRuntimeFailed(failures: Record<string, unknown>): Promise<number> {
    let acted = 0;
    for (const id of await findFailedForWantOfRuntime(db.prisma, NO_RUNTIME_REASON)) {
      try {
        if (await lifecycle.reprovisionAfterRuntimeOutage(id)) acted++;
      } catch (err) {
        failures[`reprovision ${id}`] = err;
      }
    }
    if (acted > 0) log.info({ count: acted }, 'provisioning again the workspaces that failed for want of a runtime');
    return acted;
  }

  async function reconcile(): Promise<number> {
    const failures: Record<string, unknown> = {};
    let acted = 0;
    try {
      const dead = await findDead();
      acted += await db.tx(async (tx) => {
        const moved = await markContainersDead(tx.sql, dead);
        await appendEvents(tx, statusEvents(moved, { source: 'health-sweep', reason: 'container not running' }));
        return moved.length;
      });
    } catch (err) {
      failures['death sweep'] = err;
    }
    // Independent of the death sweep: OFFLINE workspaces from liveness or events still get restarted.
    acted += await restartOffline(failures).catch((err: unknown) => {
      failures['restart sweep'] = err;
      return 0;
    });
    acted += await reprovisionRuntimeFailed(failures).catch((err: unknown) => {
      failures['runtime-outage sweep'] = err;
      return 0;
    });
    if (Object.keys(failures).length > 0) throw new PartsFailed(failures);
    return acted;
  }

  async function handleEvent(e: RuntimeEvent): Promise<void> {
    if (!DEATHS.has(e.action)) return;
    const id = e.labels[LABEL_WORKSPACE_ID];
    const generation = generationOf(e.labels);
    // Only the current generation's container counts: one discarded by a restart says nothing.
    if (!isUuid(id) || generation === null) return;
    const moved = await markContainerEventDeath(db, id, generation, e);
    if (!moved) return;
    log.info({ workspaceId: id, action: e.action, exitCode: e.exitCode }, 'workspace container died');
    scheduleRestart(stream.breaks());
  }

  // A daemon that shuts down kills its containers first (their die events arrive) and closes its
  // API about a second later; a restart started in between would find no daemon and end FAILED. So
  // the restart waits a moment and is left to the reconcile after the reconnect when the stream
  // broke meanwhile. The workspace is OFFLINE at once either way.
  let restartTimer: NodeJS.Timeout | null = null;
  let restartEpoch = 0;
  function scheduleRestart(epoch: number): void {
    if (restartTimer) {
      restartEpoch = Math.min(restartEpoch, epoch);
      return;
    }
    restartEpoch = epoch;
    restartTimer = setTimeout(() => {
      restartTimer = null;
      void exclusive(async () => {
        if (stream.breaks() !== restartEpoch || !stream.isOpen() || !(await runtime.ping())) return;
        const failures: Record<string, unknown> = {};
        await restartOffline(failures);
        if (Object.keys(failures).length > 0) log.warn({ err: new PartsFailed(failures) }, 'automatic restart after a container death failed');
      }).catch((err: unknown) => log.warn({ err }, 'automatic restart after a container death failed'));
    }, opts.restartSettleMs ?? 2_000);
    restartTimer.unref();
  }

  // The runtime is back (a probe of this instance said so): the leader reconciles now, which also
  // provisions again what failed for want of a runtime, rather than at its next tick.
  let leading = false;
  runtime.onReachable?.(() => {
    if (leading) void exclusive(reconcile).catch((err: unknown) => log.warn({ err }, 'reconcile after the runtime came back failed'));
  });

  const stream = createEventStreamKeeper({
    runtime,
    log,
    baseMs: opts.reconnectBaseMs,
    maxMs: opts.reconnectMaxMs,
    onEvent: (e) => {
      void exclusive(() => handleEvent(e)).catch((err: unknown) => log.warn({ err, event: e }, 'container event handling failed'));
    },
    onReconnected: () => exclusive(reconcile).then(() => {}),
  });

  return {
    name: 'health-sweep',
    intervalMs: opts.intervalMs,
    needsRuntime: true,
    stream,
    reconcile: () => exclusive(reconcile),
    drained: () => exclusive(async () => {}),
    async tick(_ctx: LoopContext) {
      if (runtime.kind === 'none') throw new TickSkipped('no container runtime configured');
      leading = true;
      // Opened first: it retries by itself, so a daemon that comes back is watched before the next tick.
      stream.start();
      if (!(await runtime.ping())) throw new TickSkipped('container runtime unavailable');
      return exclusive(reconcile);
    },
    onLeadershipLost() {
      leading = false;
      stream.stop();
      if (restartTimer) clearTimeout(restartTimer);
      restartTimer = null;
    },
  };
}
