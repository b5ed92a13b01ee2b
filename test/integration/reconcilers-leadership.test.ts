// Loop leadership on a real database. On the PostgreSQL server, one session-level advisory lock per
// loop on a dedicated connection: one leader per loop, followers get it once the leader's session ends
// (closed, or killed by the server). Embedded, one process and one session: it leads everything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeadership, type Leadership } from '../../services/reconcilers/leadership.js';
import { dbMode } from '../support/database.js';
import { eventually } from '../support/lifecycle-fixtures.js';
import { openTestDb, testLog, type ReconcilerTestDb } from '../support/reconcilers.js';

const LOOPS = ['orphan-sweeper', 'health-sweep', 'liveness'];

describe('reconciler leadership', () => {
  let t: ReconcilerTestDb;
  const open: Leadership[] = [];
  const lead = (instanceId: string) => {
    const l = createLeadership({ url: t.db.url, embedded: t.db.embedded, instanceId, log: testLog });
    open.push(l);
    return l;
  };

  beforeAll(async () => {
    t = await openTestDb();
  });
  afterAll(async () => {
    for (const l of open) await l.close();
    await t?.stop();
  });

  if (dbMode() === 'embedded') {
    it('leads every loop in embedded mode, where one process holds the one session', async () => {
      const a = lead('a');
      for (const loop of LOOPS) expect(await a.acquire(loop)).toBe(true);
      expect(a.leads('liveness')).toBe(true);
    });
    return;
  }

  it('gives each loop one leader; the other instance follows, and asking again keeps it', async () => {
    const a = lead('a');
    const b = lead('b');
    expect(await a.acquire('orphan-sweeper')).toBe(true);
    expect(await b.acquire('orphan-sweeper')).toBe(false);
    expect(await b.acquire('liveness')).toBe(true);
    expect(await a.acquire('liveness')).toBe(false);
    expect(await a.acquire('orphan-sweeper')).toBe(true);
    expect(await b.acquire('liveness')).toBe(true);
    expect(a.leads('orphan-sweeper') && !a.leads('liveness') && b.leads('liveness')).toBe(true);
    await a.close();
    await b.close();
  });

  it('hands the lock to a follower when the leader closes', async () => {
    const a = lead('c');
    const b = lead('d');
    expect(await a.acquire('health-sweep')).toBe(true);
    expect(await b.acquire('health-sweep')).toBe(false);
    await a.close();
    expect(await a.acquire('health-sweep')).toBe(false);
    expect(await b.acquire('health-sweep')).toBe(true);
    await b.close();
  });

  it("releases a killed session's locks, tells the old leader it lost them, and the follower takes over", async () => {
    const a = lead('killed-leader');
    const b = lead('e');
    const lost: string[][] = [];
    a.onLost((loops) => lost.push(loops));
    expect(await a.acquire('liveness')).toBe(true);
    expect(await a.acquire('orphan-sweeper')).toBe(true);
    expect(await b.acquire('liveness')).toBe(false);
    // What a dead process looks like from the server: its backend goes away.
    await t.db.prisma.$queryRaw`
      /* testKillLeader */
      SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'reconcilers killed-leader'`;
    await eventually(async () => (lost.length > 0 ? true : undefined), 5_000, 'leadership loss');
    expect(lost[0]!.sort()).toEqual(['liveness', 'orphan-sweeper']);
    expect(a.leads('liveness')).toBe(false);
    expect(await b.acquire('liveness')).toBe(true);
    // The old leader reconnects as a follower.
    expect(await a.acquire('liveness')).toBe(false);
    expect(await a.acquire('health-sweep')).toBe(true);
  });

  it('keeps the locks off the shared pool: the pool can be exhausted and leadership still answers', async () => {
    const a = lead('f');
    const max = (t.db.pool as unknown as { options: { max: number } }).options.max;
    const clients = await Promise.all(Array.from({ length: max - t.db.pool.totalCount + t.db.pool.idleCount }, () => t.db.pool.connect()));
    expect(t.db.pool.totalCount).toBe(max);
    try {
      expect(await a.acquire('orphan-sweeper')).toBe(true);
    } finally {
      for (const c of clients) c.release();
    }
    const rows = await t.db.prisma.$queryRaw<{ n: number }[]>`
      /* testLeaderSessions */
      SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'reconcilers f'`;
    expect(rows[0]!.n).toBe(1);
  });
});
