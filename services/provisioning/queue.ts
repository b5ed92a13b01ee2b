// Runs provisioning off the request: each committed PROVISIONING (create, restart, resume, wake,
// auto-restart) is scheduled here with its generation. Bounded concurrency keeps a burst of creates
// from opening hundreds of daemon calls at once. While work runs (or waits for a retry), its claims are
// renewed every few seconds, so another instance can tell live work from a dead instance's; a transient
// failure is retried with backoff under the same guard; and the takeover loop (takeover.ts) picks up
// work whose claim went stale. Shutdown waits briefly and leaves the rest claimed for a takeover.
import { isDatabaseUnavailable } from '../db/unavailable.js';
import type { WorkspaceRecord } from '../workspaces/record.js';
import { renewClaims } from './guard.js';
import { claimWork, provision, type ProvisionOutcome, type ProvisionRequest, type ProvisionerDeps } from './provisioner.js';
import { createTakeoverLoop } from './takeover.js';

const MAX_CONCURRENT = 8;
const STOP_GRACE_MS = 5_000;
/** Well inside STALE_CLAIM_S, so a loaded instance is not mistaken for a dead one. */
export const RENEW_INTERVAL_MS = 3_000;
const RETRY_BASE_MS = 1_000;
// Capped low: once the fault is over, no workspace should wait long for its next attempt.
const RETRY_MAX_MS = 10_000;

export interface ProvisioningQueue {
  schedule(req: ProvisionRequest): void;
  /** Start-up: take over provisioning left by a crashed process or a dead instance, then keep watching. */
  resumePending(): Promise<number>;
  /** Resolves when nothing is queued, running or waiting for a retry (tests, benchmarks). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export type QueueDeps = Omit<ProvisionerDeps, 'stopping'> & {
  /** Observes each finished provisioning (metrics, tests). */
  onOutcome?: (req: ProvisionRequest, outcome: ProvisionOutcome) => void;
  /** Takeover scan cadence (tests shorten it). */
  takeoverIntervalMs?: number;
};

export function retryDelayMs(attempt: number): number {
  const base = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt);
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

export function createProvisioningQueue(deps: QueueDeps): ProvisioningQueue {
  let stopping = false;
  let active = 0;
  const waiting: Array<() => void> = [];
  const running = new Set<Promise<void>>();
  /** Workspaces this process is provisioning (or will retry): never taken over by our own loop. */
  const inFlight = new Map<string, number>();
  /** Retries waiting out their backoff, and how to run each at once. */
  const retryTimers = new Map<NodeJS.Timeout, () => void>();
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
    if (running.size > 0 || retryTimers.size > 0) return;
    const ws = idleWaiters;
    idleWaiters = [];
    for (const w of ws) w();
  }

  const enter = (id: string) => inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
  const leave = (id: string) => {
    const n = (inFlight.get(id) ?? 1) - 1;
    if (n > 0) inFlight.set(id, n);
    else inFlight.delete(id);
  };

  function retryLater(req: ProvisionRequest): void {
    const attempt = req.attempt ?? 0;
    enter(req.workspaceId);
    const fire = () => {
      clearTimeout(timer);
      retryTimers.delete(timer);
      schedule({ ...req, claim: { kind: 'retry' }, attempt: attempt + 1 });
      leave(req.workspaceId);
    };
    const timer = setTimeout(fire, retryDelayMs(attempt));
    retryTimers.set(timer, fire);
  }

  /** The database answers again: what waits for its backoff need not wait any longer. */
  function retryAllNow(): void {
    for (const fire of [...retryTimers.values()]) fire();
  }

  function schedule(req: ProvisionRequest): void {
    if (stopping) return;
    enter(req.workspaceId);
    const work = (async () => {
      // Claimed before waiting for a slot: queued work is then visibly this live instance's (its claim
      // is renewed like running work), and a dead instance's queued work is stale at once.
      let claimed: WorkspaceRecord | null;
      try {
        claimed = await claimWork(deps, req);
      } catch (err) {
        if (!isDatabaseUnavailable(err)) throw err;
        deps.log.warn({ err, workspaceId: req.workspaceId }, 'provisioning interrupted by a transient error; it will be retried');
        deps.onOutcome?.(req, 'retry');
        if (!stopping) retryLater(req);
        return;
      }
      if (!claimed) return deps.onOutcome?.(req, 'not-claimed');
      await slot();
      try {
        const outcome = stopping ? 'abandoned' : await provision(provisionerDeps, req, claimed);
        deps.onOutcome?.(req, outcome);
        if (outcome === 'retry' && !stopping) retryLater(req);
      } finally {
        release();
      }
    })()
      // A bug, not a fault: the claim stops being renewed, so the takeover loop retries it later.
      .catch((err: unknown) => deps.log.error({ err, workspaceId: req.workspaceId }, 'provisioning crashed'))
      .finally(() => {
        leave(req.workspaceId);
        running.delete(work);
        settle();
      });
    running.add(work);
  }

  let renewalsFailing = false;
  const renewer = setInterval(() => {
    if (inFlight.size === 0) return;
    renewClaims(deps.db, deps.instanceId, [...inFlight.keys()]).then(
      () => {
        if (renewalsFailing) retryAllNow();
        renewalsFailing = false;
      },
      (err: unknown) => {
        renewalsFailing = true;
        deps.log.debug({ err }, 'could not renew provisioning claims');
      },
    );
  }, RENEW_INTERVAL_MS);
  renewer.unref();

  const takeover = createTakeoverLoop({
    db: deps.db,
    runtime: deps.runtime,
    log: deps.log,
    instanceId: deps.instanceId,
    intervalMs: deps.takeoverIntervalMs,
    isInFlight: (id) => inFlight.has(id),
    schedule,
  });

  return {
    schedule,
    resumePending: () => takeover.start(),
    idle: () => (running.size === 0 && retryTimers.size === 0 ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r))),
    async stop() {
      stopping = true;
      clearInterval(renewer);
      takeover.stop();
      for (const t of retryTimers.keys()) clearTimeout(t);
      retryTimers.clear();
      for (const w of waiting.splice(0)) w();
      settle();
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
