// Runs provisioning off the request: each committed PROVISIONING (create, restart, resume, wake,
// auto-restart) is scheduled here with its generation. Bounded concurrency keeps a burst of creates
// from opening hundreds of daemon calls at once; shutdown waits briefly and leaves the rest claimed
// for the next start (resumePending).
import { pendingProvisioning } from './guard.js';
import { provision, type ProvisionOutcome, type ProvisionRequest, type ProvisionerDeps } from './provisioner.js';

const MAX_CONCURRENT = 8;
const STOP_GRACE_MS = 5_000;

export interface ProvisioningQueue {
  schedule(req: ProvisionRequest): void;
  /** Start-up: finish provisioning left by a crashed process or a dead instance. */
  resumePending(): Promise<number>;
  /** Resolves when nothing is queued or running (tests, benchmarks). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export type QueueDeps = Omit<ProvisionerDeps, 'stopping'> & {
  /** Observes each finished provisioning (metrics, tests). */
  onOutcome?: (req: ProvisionRequest, outcome: ProvisionOutcome) => void;
};

export function createProvisioningQueue(deps: QueueDeps): ProvisioningQueue {
  let stopping = false;
  let active = 0;
  const waiting: Array<() => void> = [];
  const running = new Set<Promise<void>>();
  /** Workspaces this process is provisioning now: resumePending must not take them over. */
  const inFlight = new Map<string, number>();
  let idleWaiters: Array<() => void> = [];
  const provisionerDeps: ProvisionerDeps = { ...deps, stopping: () => stopping };

  const slot = () =>
    new Promise<void>((resolve) => {
      if (active < MAX_CONCURRENT) {
        active++;
        resolve();
      } else waiting.push(() => resolve());
    });
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };

  function settle(): void {
    if (running.size > 0) return;
    const ws = idleWaiters;
    idleWaiters = [];
    for (const w of ws) w();
  }

  function schedule(req: ProvisionRequest): void {
    if (stopping) return;
    inFlight.set(req.workspaceId, (inFlight.get(req.workspaceId) ?? 0) + 1);
    const work = (async () => {
      await slot();
      try {
        const outcome = stopping ? 'abandoned' : await provision(provisionerDeps, req);
        deps.onOutcome?.(req, outcome);
      } finally {
        release();
      }
    })()
      .catch((err: unknown) => deps.log.error({ err, workspaceId: req.workspaceId }, 'provisioning crashed'))
      .finally(() => {
        const n = (inFlight.get(req.workspaceId) ?? 1) - 1;
        if (n > 0) inFlight.set(req.workspaceId, n);
        else inFlight.delete(req.workspaceId);
        running.delete(work);
        settle();
      });
    running.add(work);
  }

  return {
    schedule,
    async resumePending() {
      const pending = await pendingProvisioning(deps.db, deps.instanceId);
      const taken = pending.filter((p) => !inFlight.has(p.workspaceId));
      for (const p of taken) schedule({ ...p, takeOver: true, resetConfig: false });
      if (taken.length > 0) deps.log.info({ count: taken.length }, 'resuming interrupted provisioning');
      return taken.length;
    },
    idle: () => (running.size === 0 ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r))),
    async stop() {
      stopping = true;
      for (const w of waiting.splice(0)) w();
      if (running.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise<void>((r) => {
          timer = setTimeout(r, STOP_GRACE_MS);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
