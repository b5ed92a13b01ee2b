// Orphan sweeper benchmark: one full cycle (every pass; superseded-secrets is a no-op on Docker) over 100,000 workspaces, 200,000 tokens
// and 1,000 containers, and again at 10x fewer of everything, on the PostgreSQL server (a scratch
// database on TEST_DATABASE_URL); the container listing is the in-memory runtime. Each size runs a
// first cycle with drift to heal (stale tokens, leftover containers and volumes) and a steady one.
// Baseline, same run, same data: the naive two-step stale-token variant (candidates, then one UPDATE
// per workspace), whose statement count grows with the rows. Statement time comes from
// pg_stat_statements when the server preloads it, else from timed round trips on the pool's clients.
//
//   npm run bench -- sweep [--workspaces=100000] [--drift=1000]
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createDatabase, type Database } from '../services/db/client.js';
import { migrate } from '../services/db/migrate.js';
import { createLogger } from '../services/log.js';
import { createOrphanSweeper, PASSES, type CycleReport } from '../services/reconcilers/orphan-sweeper.js';
import type { StaleTokenVariant } from '../services/reconcilers/stale-tokens.js';
import { createFakeRuntime, type FakeRuntime } from '../services/runtime/fake.js';
import { LABEL_DEPLOYMENT, LABEL_GENERATION, LABEL_MANAGED, LABEL_WORKSPACE_ID } from '../services/runtime/types.js';

const DEPLOYMENT = '00000000-0000-4000-8000-00000000bench';
import { scratchDatabase } from './scratch-db.js';

const GRACE_S = 300;

interface Size {
  workspaces: number;
  /** Stale live tokens to revoke, leftover containers and orphan volumes in the first cycle. */
  drift: number;
}

interface Measured {
  cycleMs: number;
  statements: number;
  statementMs: number;
  source: 'pg_stat_statements' | 'round trips';
  acted: number;
}


/** Times every round trip of the pool's clients (BEGIN and COMMIT included) while `on` is set. */
function timeRoundTrips(pool: pg.Pool) {
  const stats = { on: false, count: 0, ms: 0, byName: new Map<string, number>() };
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      if (!stats.on) return query(...args);
      const t0 = performance.now();
      const first = args[0];
      const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '');
      const name = /\/\*\s*([A-Za-z0-9_-]+)\s*\*\//.exec(text)?.[1] ?? text.slice(0, 12);
      const done = () => {
        const ms = performance.now() - t0;
        stats.count++;
        stats.ms += ms;
        stats.byName.set(name, (stats.byName.get(name) ?? 0) + ms);
      };
      // pool.query() passes a callback; Prisma's adapter may also await the promise form.
      const last = args[args.length - 1];
      if (typeof last === 'function') {
        args[args.length - 1] = (...r: unknown[]) => {
          done();
          return (last as (...a: unknown[]) => unknown)(...r);
        };
        return query(...args);
      }
      const p = query(...args);
      return p instanceof Promise ? p.finally(done) : p;
    };
  });
  return stats;
}

/** pg_stat_statements, when the server preloads it (it cannot be loaded later). */
async function statementStats(db: Database): Promise<null | { reset(): Promise<void>; read(): Promise<{ count: number; ms: number }> }> {
  try {
    await db.prisma.$executeRawUnsafe('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await db.prisma.$queryRawUnsafe('SELECT pg_stat_statements_reset()');
  } catch {
    return null;
  }
  return {
    reset: async () => void (await db.prisma.$queryRawUnsafe('SELECT pg_stat_statements_reset()')),
    async read() {
      const rows = await db.prisma.$queryRawUnsafe<Array<{ calls: bigint; ms: number }>>(
        `SELECT sum(calls)::bigint AS calls, sum(total_exec_time)::float8 AS ms FROM pg_stat_statements
          WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND query NOT LIKE '%pg_stat_statements%'`,
      );
      return { count: Number(rows[0]?.calls ?? 0), ms: rows[0]?.ms ?? 0 };
    },
  };
}

/**
 * Workspaces across every status (containers for 95% of the live container workspaces that should
 * have one), two tokens each: one revoked long ago, one live. Live tokens are stale where a container
 * or the runtime protects them, fresh elsewhere, except `drift` stale ones to revoke.
 */
export async function seed(db: Database, fake: FakeRuntime, size: Size): Promise<void> {
  const n = size.workspaces;
  const containers = Math.round(n / 100);
  await db.prisma.$executeRawUnsafe(`
    INSERT INTO workspaces (name, status, runtime, generation)
    SELECT 'bench-' || i,
           (CASE WHEN i <= ${containers} THEN 'ONLINE'
                 WHEN i % 10 < 4 THEN 'REMOVED' WHEN i % 10 < 6 THEN 'HIBERNATED' WHEN i % 10 = 6 THEN 'PAUSED'
                 WHEN i % 10 = 7 THEN 'OFFLINE' WHEN i % 10 = 8 THEN 'FAILED' ELSE 'PROVISIONING' END)::workspace_status,
           CASE WHEN i > ${containers} AND i % 20 = 19 THEN 'external' ELSE 'langgraph' END, 1
      FROM generate_series(1, ${n}) AS i`);
  await db.prisma.$executeRawUnsafe(`
    INSERT INTO workspace_auth_tokens (workspace_id, token_hash, prefix, created_at, last_used_at, revoked_at)
    SELECT id, md5(random()::text) || id, left(md5(id::text), 8), now() - interval '30 days', NULL, now() - interval '29 days'
      FROM workspaces`);
  await db.prisma.$executeRawUnsafe(`
    INSERT INTO workspace_auth_tokens (workspace_id, token_hash, prefix, created_at, last_used_at)
    SELECT w.id, md5(random()::text) || w.id, left(md5(w.id::text), 8), now() - interval '2 days',
           CASE WHEN w.status = 'ONLINE' OR w.runtime = 'external' THEN now() - interval '1 hour'
                ELSE now() - interval '60 seconds' END
      FROM workspaces w WHERE w.status <> 'REMOVED'`);
  // Drift: stale live tokens of container-less workspaces.
  await db.prisma.$executeRawUnsafe(`
    UPDATE workspace_auth_tokens SET last_used_at = now() - interval '1 hour'
     WHERE id IN (SELECT t.id FROM workspace_auth_tokens t JOIN workspaces w ON w.id = t.workspace_id
                   WHERE t.revoked_at IS NULL AND w.status IN ('OFFLINE', 'FAILED', 'HIBERNATED') AND w.runtime <> 'external'
                   ORDER BY t.id LIMIT ${size.drift})`);
  // As autovacuum leaves a table in service: statistics, visibility map and hint bits set.
  await db.prisma.$executeRawUnsafe('VACUUM ANALYZE workspaces');
  await db.prisma.$executeRawUnsafe('VACUUM ANALYZE workspace_auth_tokens');

  const live = await db.prisma.$queryRawUnsafe<{ id: string }[]>(`SELECT id::text FROM workspaces WHERE status = 'ONLINE' AND runtime <> 'external' ORDER BY id`);
  const removed = await db.prisma.$queryRawUnsafe<{ id: string }[]>(`SELECT id::text FROM workspaces WHERE status = 'REMOVED' LIMIT ${Math.ceil(size.drift / 40)}`);
  const add = async (id: string, labeled: boolean) => {
    const name = `ws-${id.slice(0, 12)}`;
    const labels: Record<string, string> = labeled ? { [LABEL_MANAGED]: 'true', [LABEL_DEPLOYMENT]: DEPLOYMENT, [LABEL_WORKSPACE_ID]: id, [LABEL_GENERATION]: '1' } : {};
    const spec = { name, image: 'agent', env: {}, labels, configVolume: `${name}-configs`, volumeLabels: labeled ? { [LABEL_MANAGED]: 'true', [LABEL_DEPLOYMENT]: DEPLOYMENT, [LABEL_WORKSPACE_ID]: id } : ({} as Record<string, string>) };
    await fake.create({ ...spec, memoryBytes: 0, cpus: 0, readOnlyRoot: false, network: 'host' });
  };
  const leftovers = removed.length;
  // One container in ten of the live ones is unlabeled (an older server's), matched by its name.
  for (const [i, w] of live.slice(0, containers - 2 * leftovers).entries()) await add(w.id, i % 10 !== 0);
  for (const w of removed) await add(w.id, true);
  for (let i = 0; i < leftovers; i++) await add(crypto.randomUUID(), true);
  for (let i = 0; i < leftovers; i++) {
    const id = crypto.randomUUID();
    fake.volumes.set(`ws-${id.slice(0, 12)}-configs`, { name: `ws-${id.slice(0, 12)}-configs`, labels: { [LABEL_MANAGED]: 'true', [LABEL_DEPLOYMENT]: DEPLOYMENT, [LABEL_WORKSPACE_ID]: id }, files: new Map() });
  }
}

async function measure(size: Size, variant: StaleTokenVariant): Promise<{ first: Measured; steady: Measured; containers: number }> {
  const scratch = await scratchDatabase('sweep');
  const db = createDatabase({ url: scratch.url, embedded: false, poolSize: 4 });
  const trips = timeRoundTrips(db.pool);
  try {
    await migrate(scratch.url);
    const fake = createFakeRuntime();
    await seed(db, fake, size);
    const containers = fake.containers.size;
    const pgss = await statementStats(db);
    const log = createLogger('silent');
    const sweeper = createOrphanSweeper({ db, runtime: fake, log, staleTokenGraceS: GRACE_S, intervalMs: 60_000, staleTokenVariant: variant, deadlineMs: 600_000, deploymentId: DEPLOYMENT });
    const once = async (): Promise<Measured> => {
      await pgss?.reset();
      Object.assign(trips, { on: true, count: 0, ms: 0, byName: new Map() });
      const t0 = performance.now();
      const report: CycleReport = await sweeper.cycle();
      const cycleMs = performance.now() - t0;
      trips.on = false;
      if (process.env.BENCH_VERBOSE) console.log([...trips.byName].map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', '));
      for (const p of PASSES) if (report[p].status !== 'done') throw new Error(`pass ${p} did not finish: ${JSON.stringify(report[p])}`);
      const acted = PASSES.reduce((s, p) => s + (report[p].status === 'done' ? (report[p] as { acted: number }).acted : 0), 0);
      const stats = pgss ? await pgss.read() : null;
      return stats
        ? { cycleMs, statements: stats.count, statementMs: stats.ms, source: 'pg_stat_statements', acted }
        : { cycleMs, statements: trips.count, statementMs: trips.ms, source: 'round trips', acted };
    };
    const first = await once();
    // Steady state: nothing left to heal. The median of five, since a loaded machine is noisy.
    const steadies: Measured[] = [];
    for (let i = 0; i < 5; i++) steadies.push(await once());
    steadies.sort((x, y) => x.statementMs - y.statementMs);
    return { first, steady: steadies[2]!, containers };
  } finally {
    await db.close();
    await scratch.drop();
  }
}

const fmt = (m: Measured) =>
  `cycle ${m.cycleMs.toFixed(1).padStart(8)} ms | ${String(m.statements).padStart(6)} statements | statement time ${m.statementMs.toFixed(1).padStart(8)} ms (${m.source}) | acted on ${m.acted}`;

export async function run(argv: string[]): Promise<void> {
  const arg = (name: string, def: number) => Number(argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);
  const big: Size = { workspaces: arg('workspaces', 100_000), drift: arg('drift', 1_000) };
  const small: Size = { workspaces: big.workspaces / 10, drift: big.drift / 10 };
  const results: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  for (const [label, size] of [['small', small], ['big', big]] as const) {
    for (const variant of ['exact', 'naive'] as const) {
      const r = await measure(size, variant);
      results[`${label}-${variant}`] = r;
      console.log(`${variant.padEnd(5)} ${String(size.workspaces).padStart(7)} workspaces, ${size.workspaces * 2} tokens, ${r.containers} containers`);
      console.log(`   first cycle (drift ${size.drift}): ${fmt(r.first)}`);
      console.log(`   steady cycle (median of 5): ${fmt(r.steady)}`);
    }
  }
  const e = (k: string) => results[k]!;
  const ratio = (a: number, b: number) => (b === 0 ? 'n/a' : `${(a / b).toFixed(2)}x`);
  console.log('\nratios (big / small = 10x rows):');
  console.log(`  exact statements per cycle: first ${ratio(e('big-exact').first.statements, e('small-exact').first.statements)}, steady ${ratio(e('big-exact').steady.statements, e('small-exact').steady.statements)}`);
  console.log(`  naive statements per cycle: first ${ratio(e('big-naive').first.statements, e('small-naive').first.statements)}`);
  console.log(`  exact statement time:       first ${ratio(e('big-exact').first.statementMs, e('small-exact').first.statementMs)}, steady ${ratio(e('big-exact').steady.statementMs, e('small-exact').steady.statementMs)}`);
  console.log(`  naive / exact at ${big.workspaces}, first cycle: statements ${ratio(e('big-naive').first.statements, e('big-exact').first.statements)}, statement time ${ratio(e('big-naive').first.statementMs, e('big-exact').first.statementMs)}`);
  console.log(`load average during the run: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);
  const target = e('big-exact').first.statementMs < 500 && e('big-exact').steady.statementMs < 500;
  console.log(`\ntarget: ${big.workspaces} workspaces under 500 ms of statement time: ${target ? 'met' : 'NOT met'}`);
}
