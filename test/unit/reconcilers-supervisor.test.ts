// The supervisor with stand-in loops and a real (embedded) database: ticks at once and then every
// interval, a crashed loop comes back after a growing backoff, skipped ticks are no ticks, and every
// leader tick lands in reconciler_ticks and in the metrics.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Leadership } from '../../services/reconcilers/leadership.js';
import { createLeadership } from '../../services/reconcilers/leadership.js';
import { TickSkipped, type ReconcileLoop } from '../../services/reconcilers/loop.js';
import { createLoopMetrics } from '../../services/reconcilers/metrics.js';
import { createSupervisor, type Supervisor } from '../../services/reconcilers/supervisor.js';
import { eventually } from '../support/lifecycle-fixtures.js';
import { openTestDb, testLog, type ReconcilerTestDb } from '../support/reconcilers.js';

interface Probe extends ReconcileLoop {
  at: number[];
}

function probe(name: string, intervalMs: number, behaviour: (n: number) => number | Error): Probe {
  const at: number[] = [];
  return {
    name,
    intervalMs,
    needsRuntime: false,
    at,
    async tick() {
      at.push(performance.now());
      const r = behaviour(at.length);
      if (r instanceof Error) throw r;
      return r;
    },
  };
}

const gaps = (at: number[]) => at.slice(1).map((t, i) => t - at[i]!);

describe('reconciler supervisor', () => {
  let t: ReconcilerTestDb;
  let registry: Registry;
  let sup: Supervisor | null = null;

  function start(loops: ReconcileLoop[], leadership?: Leadership) {
    registry = new Registry();
    sup = createSupervisor({
      db: t.db,
      log: testLog,
      instanceId: 'unit',
      leadership: leadership ?? createLeadership({ url: t.db.url, embedded: true, instanceId: 'unit', log: testLog }),
      metrics: createLoopMetrics(registry),
      loops,
      backoffBaseMs: 20,
      backoffMaxMs: 200,
    });
    void sup.start();
    return sup;
  }

  beforeAll(async () => {
    t = await openTestDb();
  });
  afterAll(async () => {
    await t?.stop();
  });
  beforeEach(async () => {
    await sup?.stop();
    sup = null;
    await t.db.prisma.$executeRaw`/* testReset */ TRUNCATE reconciler_ticks`;
  });

  it('ticks at once when it starts leading, then every interval, and records each tick', async () => {
    const p = probe('liveness', 80, () => 2);
    const s = start([p]);
    await eventually(async () => (p.at.length >= 3 ? true : undefined), 5_000, 'three ticks');
    expect(s.leads('liveness')).toBe(true);
    expect(s.startedAt('liveness')).toBeInstanceOf(Date);
    for (const g of gaps(p.at)) expect(g).toBeGreaterThanOrEqual(70);
    const rows = await t.db.prisma.$queryRaw<Array<{ leader_instance: string; items_acted: number; last_error: string | null; last_tick_at: Date }>>`
      /* testTicks */ SELECT leader_instance, items_acted, last_error, last_tick_at FROM reconciler_ticks WHERE loop_name = 'liveness'`;
    expect(rows[0]).toMatchObject({ leader_instance: 'unit', items_acted: 2, last_error: null });
    const metrics = await registry.getMetricsAsJSON();
    const value = (name: string) => metrics.find((m) => m.name === name)!.values.find((v) => v.labels.loop === 'liveness')?.value;
    expect(value('reconciler_ticks_total')).toBeGreaterThanOrEqual(3);
    expect(value('reconciler_items_total')).toBeGreaterThanOrEqual(6);
    expect(value('reconciler_leader')).toBe(1);
    expect(metrics.find((m) => m.name === 'reconciler_tick_duration_seconds')).toBeDefined();
  });

  it('restarts a crashing loop after a backoff that doubles, and resets it after a good tick', async () => {
    // Ticks 1-3 crash, 4 succeeds, 5 crashes again, 6 succeeds.
    const p = probe('hibernation', 300, (n) => (n <= 3 || n === 5 ? new Error(`crash ${n}`) : 0));
    start([p]);
    await eventually(async () => (p.at.length >= 6 ? true : undefined), 5_000, 'six ticks');
    const g = gaps(p.at);
    expect(g[0]).toBeGreaterThanOrEqual(18);
    expect(g[1]).toBeGreaterThanOrEqual(38);
    expect(g[2]).toBeGreaterThanOrEqual(78);
    // After the good fourth tick: the full interval, then the backoff starts again from its base.
    expect(g[3]).toBeGreaterThanOrEqual(290);
    expect(g[4]).toBeGreaterThanOrEqual(18);
    expect(g[4]!).toBeLessThan(g[2]!);
    const metrics = await registry.getMetricsAsJSON();
    const errors = metrics.find((m) => m.name === 'reconciler_errors_total')!.values.find((v) => v.labels.loop === 'hibernation');
    expect(errors!.value).toBeGreaterThanOrEqual(4);
  });

  it('records a skipped tick as an error without a tick time', async () => {
    const p = probe('orphan-sweeper', 10_000, () => new TickSkipped('no container runtime configured'));
    start([p]);
    await eventually(async () => (p.at.length >= 1 ? true : undefined), 5_000, 'a tick');
    const rows = await eventually(async () => {
      const r = await t.db.prisma.$queryRaw<Array<{ last_tick_at: Date | null; last_error: string }>>`
        /* testSkipped */ SELECT last_tick_at, last_error FROM reconciler_ticks WHERE loop_name = 'orphan-sweeper'`;
      return r.length ? r : undefined;
    });
    expect(rows[0]).toEqual({ last_tick_at: null, last_error: 'no container runtime configured' });
    await new Promise((r) => setTimeout(r, 100));
    expect(p.at).toHaveLength(1);
  });

  it('does not tick while another session leads, and stops and releases on stop()', async () => {
    let leads = false;
    const lost: Array<(l: string[]) => void> = [];
    const fakeLeadership: Leadership = {
      acquire: async () => leads,
      leads: () => leads,
      onLost: (fn) => void lost.push(fn),
      close: async () => {
        leads = false;
      },
    };
    const p = probe('provision-timeout', 30, () => 0);
    const s = start([p], fakeLeadership);
    await new Promise((r) => setTimeout(r, 120));
    expect(p.at).toHaveLength(0);
    expect(s.leads('provision-timeout')).toBe(false);
    leads = true;
    await eventually(async () => (p.at.length >= 1 ? true : undefined), 5_000, 'tick as leader');
    expect(s.leads('provision-timeout')).toBe(true);
    await s.stop();
    sup = null;
    const n = p.at.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(p.at).toHaveLength(n);
    expect(s.leads('provision-timeout')).toBe(false);
  });
});
