// The reconcilers (API.md "Reconcilers", DESIGN.md "Reconcilers"): the five loops that keep the
// database and the container runtime honest with each other, plus event retention, each run by the
// supervisor on the one instance that leads it. server.ts starts them after listen and stops them on
// close; `subsystems` reads their state.
import type { ServiceDeps } from '../deps.js';
import type { EventService } from '../events/service.js';
import type { LifecycleService } from '../lifecycle/service.js';
import { createHealthLoop, type HealthLoop } from './health-sweep.js';
import { createHibernationLoop } from './hibernation.js';
import { createLeadership } from './leadership.js';
import { createLivenessLoop } from './liveness.js';
import { LOOP_NAMES, type LoopName, type ReconcileLoop } from './loop.js';
import { createLoopMetrics } from './metrics.js';
import { createOrphanSweeper, type OrphanSweeper } from './orphan-sweeper.js';
import { createProvisionTimeoutLoop } from './provision-timeout.js';
import { createRetentionLoop } from './retention.js';
import { readSubsystems, type SubsystemStatus } from './subsystems.js';
import { createSupervisor } from './supervisor.js';

export type { SubsystemStatus };

export interface ReconcilerDeps extends ServiceDeps {
  lifecycle: Pick<LifecycleService, 'autoRestart' | 'hibernate' | 'reprovisionAfterRuntimeOutage'>;
  events: Pick<EventService, 'deleteExpired'>;
}

export interface Reconcilers {
  /**
   * Starts leading (or following) every loop; resolves once each loop's leadership is settled, without
   * waiting for any tick (the orphan sweeper's first cycle runs in the background).
   */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The five loops of API.md, in order. */
  subsystems(): Promise<SubsystemStatus[]>;
  readonly sweeper: OrphanSweeper;
  readonly health: HealthLoop;
}

export function createReconcilers(deps: ReconcilerDeps): Reconcilers {
  const { config, db, runtime, log } = deps;
  const rlog = log.child({ component: 'reconcilers' });
  const sweeper = createOrphanSweeper({
    db,
    runtime,
    log: rlog,
    staleTokenGraceS: config.staleTokenGraceS,
    intervalMs: config.orphanSweepIntervalS * 1000,
    deploymentId: deps.deploymentId,
  });
  const health = createHealthLoop({ db, runtime, lifecycle: deps.lifecycle, log: rlog, intervalMs: config.healthSweepIntervalS * 1000 });
  const loops: ReconcileLoop[] = [
    sweeper,
    health,
    createLivenessLoop({ db, timeoutS: config.livenessTimeoutS, intervalMs: config.livenessSweepIntervalS * 1000 }),
    createProvisionTimeoutLoop({
      db,
      runtime,
      log: rlog,
      timeoutS: config.provisionTimeoutS,
      intervalMs: config.provisionTimeoutSweepIntervalS * 1000,
      instanceId: deps.instanceId,
    }),
    createHibernationLoop({ db, lifecycle: deps.lifecycle, log: rlog, intervalMs: config.hibernationSweepIntervalS * 1000 }),
    createRetentionLoop(deps.events, config.eventRetentionDays),
  ];
  const byName = new Map(loops.map((l) => [l.name, l]));
  const leadership = createLeadership({
    url: db.url,
    embedded: db.embedded,
    instanceId: deps.instanceId,
    log: rlog,
  });
  const supervisor = createSupervisor({
    db,
    log: rlog,
    instanceId: deps.instanceId,
    leadership,
    metrics: createLoopMetrics(deps.metrics),
    loops,
  });
  const loopOf = (name: LoopName) => byName.get(name)!;

  return {
    sweeper,
    health,
    start: () => supervisor.start(),
    async stop() {
      await supervisor.stop();
      // Events that arrived before the stream closed are finished, not cut off mid-transaction.
      await health.drained();
    },
    subsystems: () =>
      readSubsystems({
        db,
        runtime,
        intervalMs: (n) => loopOf(n).intervalMs,
        needsRuntime: (n) => loopOf(n).needsRuntime,
        startedAt: (n) => supervisor.startedAt(n),
        leads: (n) => supervisor.leads(n),
      }),
  };
}

export { LOOP_NAMES };
