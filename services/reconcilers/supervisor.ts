// Runs every loop on its interval, on the instance that leads it. Followers ask for the lock again at
// every interval; a new leader ticks at once. A tick that throws is a crash: it is logged, counted and
// recorded, and the loop restarts after a backoff (1 s doubling to 30 s, never longer than its
// interval), reset by the next good tick. Each leader tick is recorded in reconciler_ticks.
import type { Database } from '../db/client.js';
import type { Logger } from '../log.js';
import type { Leadership } from './leadership.js';
import { TickSkipped, type ReconcileLoop } from './loop.js';
import type { LoopMetrics } from './metrics.js';
import { recordTick } from './ticks-sql.js';

export interface SupervisorOptions {
  db: Database;
  log: Logger;
  instanceId: string;
  leadership: Leadership;
  metrics: LoopMetrics;
  loops: readonly ReconcileLoop[];
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export interface Supervisor {
  /** Starts every loop; resolves once each knows whether this instance leads it (ticks go on after). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** When this instance started running the loop (null before start). */
  startedAt(loop: string): Date | null;
  leads(loop: string): boolean;
}

interface Runner {
  loop: ReconcileLoop;
  startedAt: Date | null;
  leaderSince: Date | null;
  /** Aborted when leadership ends or the supervisor stops; renewed per leadership term. */
  term: AbortController;
  wake: (() => void) | null;
  done: Promise<void> | null;
  /** Resolves the first leadership decision (start() waits for it). */
  decided: () => void;
}

export function createSupervisor(opts: SupervisorOptions): Supervisor {
  const { db, log, instanceId, leadership, metrics } = opts;
  const baseMs = opts.backoffBaseMs ?? 1_000;
  const maxMs = opts.backoffMaxMs ?? 30_000;
  const runners = new Map<string, Runner>(
    opts.loops.map((loop) => [loop.name, { loop, startedAt: null, leaderSince: null, term: new AbortController(), wake: null, done: null, decided: () => {} }]),
  );
  let stopped = false;

  function demote(r: Runner): void {
    if (r.leaderSince === null) return;
    r.leaderSince = null;
    r.term.abort();
    r.term = new AbortController();
    metrics.leader.set({ loop: r.loop.name }, 0);
    try {
      r.loop.onLeadershipLost?.();
    } catch (err) {
      log.warn({ err, loop: r.loop.name }, 'leadership hand-over failed');
    }
  }

  leadership.onLost((loops) => {
    for (const name of loops) {
      const r = runners.get(name);
      if (r) demote(r);
    }
  });

  function sleep(r: Runner, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        r.wake = null;
        resolve();
      }
      r.wake = done;
    });
  }

  async function record(name: string, error: string | null, items: number, durationMs: number): Promise<void> {
    await recordTick(db.prisma, { loop: name, instanceId, error, items, durationMs: Math.round(durationMs) }).catch((err: unknown) =>
      log.warn({ err, loop: name }, 'could not record the reconciler tick'),
    );
  }

  /** One turn: leadership, then (as leader) a tick. Returns how long to wait before the next turn. */
  async function turn(r: Runner, failures: { n: number }): Promise<number> {
    const { loop } = r;
    const leads = await leadership.acquire(loop.name).catch((err: unknown) => {
      log.warn({ err, loop: loop.name }, 'could not ask for reconciler leadership');
      return false;
    });
    if (leads && r.leaderSince === null) {
      r.leaderSince = new Date();
      metrics.leader.set({ loop: loop.name }, 1);
      log.info({ loop: loop.name, instanceId }, 'leading reconciler loop');
    }
    r.decided();
    const since = r.leaderSince;
    if (!leads || since === null) {
      demote(r);
      return loop.intervalMs;
    }
    const t0 = performance.now();
    const end = metrics.duration.startTimer({ loop: loop.name });
    try {
      const items = await loop.tick({ signal: r.term.signal, leaderSince: since });
      end();
      metrics.ticks.inc({ loop: loop.name });
      metrics.items.inc({ loop: loop.name }, items);
      failures.n = 0;
      await record(loop.name, null, items, performance.now() - t0);
      return loop.intervalMs;
    } catch (err) {
      end();
      metrics.errors.inc({ loop: loop.name });
      const message = err instanceof Error ? err.message : String(err);
      await record(loop.name, message, 0, performance.now() - t0);
      if (err instanceof TickSkipped) {
        log.debug({ loop: loop.name, reason: message }, 'reconciler tick skipped');
        return loop.intervalMs;
      }
      failures.n++;
      log.error({ err, loop: loop.name, failures: failures.n }, 'reconciler loop crashed; restarting after backoff');
      return Math.min(loop.intervalMs, maxMs, baseMs * 2 ** (failures.n - 1));
    }
  }

  async function run(r: Runner): Promise<void> {
    const failures = { n: 0 };
    while (!stopped) {
      let delay = r.loop.intervalMs;
      try {
        delay = await turn(r, failures);
      } catch (err) {
        // Only a bug in the bookkeeping lands here; the loop goes on after the longest backoff.
        log.error({ err, loop: r.loop.name }, 'reconciler supervisor turn failed');
        delay = Math.min(r.loop.intervalMs, maxMs);
        r.decided();
      }
      if (!stopped) await sleep(r, delay);
    }
  }

  return {
    async start() {
      if (stopped) return;
      const decisions: Promise<void>[] = [];
      for (const r of runners.values()) {
        if (r.done) continue;
        decisions.push(new Promise<void>((resolve) => (r.decided = resolve)));
        r.startedAt = new Date();
        metrics.leader.set({ loop: r.loop.name }, 0);
        r.done = run(r);
      }
      await Promise.all(decisions);
    },
    async stop() {
      stopped = true;
      for (const r of runners.values()) {
        r.term.abort();
        r.wake?.();
      }
      await Promise.all([...runners.values()].map((r) => r.done));
      for (const r of runners.values()) demote(r);
      await leadership.close();
    },
    startedAt: (loop) => runners.get(loop)?.startedAt ?? null,
    leads: (loop) => !stopped && (runners.get(loop)?.leaderSince ?? null) !== null,
  };
}
