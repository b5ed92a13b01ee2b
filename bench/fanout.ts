// Fan-out benchmark: N graphql-ws subscribers (N = 1,000 and 5,000 by default) in child processes, all
// watching one workspace on a server backed by the PostgreSQL server (a scratch database). A burst of
// 10 status changes, 100 ms apart, is committed through the real log; the commit time is taken in
// the server process right after COMMIT (an afterCommit hook registered before the event's own wake),
// the delivery time in the client process on receipt (both wall clock with sub-ms precision).
// Baseline, same run, same clients: a bare `ws` server broadcasting the same JSON to N sockets.
// Also: server memory per idle subscriber ((heap + external) and RSS delta after GC, divided by N).
//
// Before each measured burst, both runs send a short unmeasured warm-up burst (--warmup, default 3).
//
//   npx tsx bench/fanout.ts [--n=1000,5000] [--clients=2] [--changes=10] [--interval=100] [--warmup=3]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { WebSocketServer } from 'ws';
import { loadConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';
import { appendEvents } from '../services/events/log.js';
import type { WorkspaceStatus } from '../services/workspaces/record.js';
import { statusEvent, transition } from '../services/workspaces/transition.js';
import type { ClientReply } from './fanout-client.js';
import { Clients } from './subscriber-pool.js';
import { benchServerEnv, scratchDatabase } from './scratch-db.js';
import { runIfMain } from './cli.js';
import { adminGql, BENCH_ADMIN_TOKEN } from './admin-gql.js';

const QUERY = `subscription($w: ID) { workspaceStatusChanged(workspaceId: $w) {
  event { id type workspaceId status previousStatus createdAt }
  workspace { id name status }
} }`;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Options {
  sizes: number[];
  clients: number;
  changes: number;
  intervalMs: number;
  warmup: number;
}

function parseArgs(argv: string[]): Options {
  const get = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  return {
    sizes: (get('n') ?? '1000,5000').split(',').map(Number),
    clients: Number(get('clients') ?? 2),
    changes: Number(get('changes') ?? 10),
    intervalMs: Number(get('interval') ?? 100),
    warmup: Number(get('warmup') ?? 3),
  };
}

function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** Memory the server process holds, after collecting garbage. */
function memory(gc: () => void): { js: number; rss: number } {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { js: m.heapUsed + m.external, rss: m.rss };
}


/** One guarded status change through the real log; resolves with the event id and its commit time. */
export async function change(server: RunningServer, id: string, from: WorkspaceStatus, to: WorkspaceStatus): Promise<[string, number]> {
  let committedAt = 0;
  const eventId = await server.db.tx(async (tx) => {
    const t = await transition(tx, id, { to, from: [from] });
    if (!t) throw new Error(`workspace was not ${from}`);
    tx.afterCommit(() => (committedAt = now())); // runs before appendEvents' wake-up hook
    const [e] = await appendEvents(tx, [statusEvent(t)!]);
    return e!.id.toString();
  });
  return [eventId, committedAt];
}

interface Latencies {
  p50: number;
  p99: number;
  max: number;
  delivered: number;
  expected: number;
}

function latencies(reports: Array<Extract<ClientReply, { kind: 'report' }>>, commits: Map<string, number>, expected: number): Latencies {
  const all: number[] = [];
  const perEvent = new Map<string, number[]>();
  for (const r of reports) {
    for (const [id, t] of r.received) {
      if (!commits.has(id)) continue;
      all.push(t - commits.get(id)!);
      if (process.env.BENCH_VERBOSE) (perEvent.get(id) ?? perEvent.set(id, []).get(id)!).push(t - commits.get(id)!);
    }
  }
  for (const [id, xs] of perEvent) {
    xs.sort((a, b) => a - b);
    console.log(`    event ${id}: first ${xs[0]!.toFixed(1)} ms, median ${xs[xs.length >> 1]!.toFixed(1)} ms, last ${xs[xs.length - 1]!.toFixed(1)} ms`);
  }
  all.sort((a, b) => a - b);
  const at = (q: number) => all[Math.min(all.length - 1, Math.floor(q * (all.length - 1)))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: all[all.length - 1] ?? NaN, delivered: all.length, expected };
}

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

/** `count` actions `intervalMs` apart (each started on schedule, awaited before the next). */
async function burst(count: number, intervalMs: number, action: () => Promise<void>): Promise<void> {
  const t0 = Date.now();
  for (let k = 0; k < count; k++) {
    await sleep(Math.max(0, t0 + k * intervalMs - Date.now()));
    await action();
  }
}

async function waitDelivered(clients: Clients, expected: number, ms: number, collect = true) {
  // Poll only a count while deliveries may still be running (a full report is a large IPC message
  // that would cost the measured process CPU), then collect the timestamps once.
  const deadline = Date.now() + ms;
  for (;;) {
    await sleep(250);
    const counts = (await clients.all(() => ({ cmd: 'count' }))) as Array<Extract<ClientReply, { kind: 'count' }>>;
    if (counts.reduce((s, c) => s + c.received, 0) >= expected || Date.now() > deadline) break;
  }
  // The warm-up's deliveries are dropped (their ids are not in the commit map anyway).
  const reports = await clients.report();
  return collect ? reports : [];
}

async function runGraphql(server: RunningServer, clients: Clients, o: Options, n: number, workspaceId: string, gc: () => void) {
  const subs = server.services.subscriptions;
  const before = memory(gc);
  const wsUrl = `${server.url.replace(/^http/, 'ws')}/graphql`;
  const connected = await clients.connect('graphql', wsUrl, n, QUERY, [{ w: workspaceId }]);
  const failed = connected.reduce((s, c) => s + c.failed, 0);
  await until(`${n} subscribers`, () => subs.listenerCount() >= n - failed, 120_000);
  await sleep(1000);
  const idle = memory(gc);
  const commits = new Map<string, number>();
  let status: WorkspaceStatus = 'ONLINE';
  const step = async (record: boolean) => {
    const to: WorkspaceStatus = status === 'ONLINE' ? 'DEGRADED' : 'ONLINE';
    const [id, t] = await change(server, workspaceId, status, to);
    status = to;
    if (record) commits.set(id, t);
  };
  // Warm-up, not measured: a running server has delivered events before (JIT, pools, caches).
  await burst(o.warmup, o.intervalMs, () => step(false));
  await waitDelivered(clients, (n - failed) * o.warmup, 30_000, false);
  await sleep(500);
  // BENCH_CPU_PROFILE=<file prefix>: a CPU profile of the server process during the burst.
  const profile = process.env.BENCH_CPU_PROFILE ? new Session() : null;
  if (profile) {
    profile.connect();
    await profile.post('Profiler.enable');
    await profile.post('Profiler.start');
  }
  await burst(o.changes, o.intervalMs, () => step(true));
  const expected = (n - failed) * o.changes;
  const reports = await waitDelivered(clients, expected, 30_000);
  if (profile) {
    const { profile: p } = await profile.post('Profiler.stop');
    await writeFile(`${process.env.BENCH_CPU_PROFILE}.${n}.cpuprofile`, JSON.stringify(p));
    profile.disconnect();
  }
  const sample = reports.find((r) => r.sample)?.sample ?? null;
  const errors = reports.flatMap((r) => r.errors);
  await clients.close();
  await until('subscribers gone', () => subs.listenerCount() === 0, 30_000);
  return {
    lat: latencies(reports, commits, expected),
    failed,
    errors,
    sample,
    perSubscriberJs: (idle.js - before.js) / n,
    perSubscriberRss: (idle.rss - before.rss) / n,
    finalStatus: status as WorkspaceStatus,
  };
}

async function runBaseline(clients: Clients, o: Options, n: number, sample: string) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as { port: number }).port;
  const connected = await clients.connect('baseline', `ws://127.0.0.1:${port}/`, n, QUERY, [{}]);
  const failed = connected.reduce((s, c) => s + c.failed, 0);
  await until(`${n} baseline sockets`, () => wss.clients.size >= n - failed, 60_000);
  await sleep(1000);
  const commits = new Map<string, number>();
  const template = JSON.parse(sample) as { payload: { data: { workspaceStatusChanged: { event: { id: string } } } } };
  let k = 0;
  const broadcast = async (record: boolean) => {
    const id = `${record ? 'baseline' : 'warmup'}-${k++}`;
    template.payload.data.workspaceStatusChanged.event.id = id;
    const json = JSON.stringify(template);
    if (record) commits.set(id, now());
    for (const c of wss.clients) c.send(json);
  };
  await burst(o.warmup, o.intervalMs, () => broadcast(false));
  await waitDelivered(clients, (n - failed) * o.warmup, 30_000, false);
  await sleep(500);
  await burst(o.changes, o.intervalMs, () => broadcast(true));
  const expected = (n - failed) * o.changes;
  const reports = await waitDelivered(clients, expected, 30_000);
  await clients.close();
  await new Promise((r) => wss.close(r));
  return { lat: latencies(reports, commits, expected), failed };
}

const ms = (x: number) => `${x.toFixed(1)} ms`;
const kib = (x: number) => `${(x / 1024).toFixed(1)} KiB`;

export async function run(argv: string[] = process.argv.slice(2)): Promise<void> {
  const o = parseArgs(argv);
  const gc = exposeGc();
  const db = await scratchDatabase('fanout');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-fanout-'));
  const clients = Clients.start(o.clients);
  let server: RunningServer | undefined;
  try {
    // 'error': dropping the scratch database at the end kills idle pool connections, which warn
    server = await startServer(loadConfig(benchServerEnv(db, dataDir, BENCH_ADMIN_TOKEN, { LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error' })));
    const created = await adminGql<{ createWorkspace: { workspace: { id: string } } }>(
      server.url,
      `mutation { createWorkspace(input: { name: "bench", runtime: "external" }) { ... on CreateWorkspaceSuccess { workspace { id } } } }`,
    );
    const workspaceId = created.createWorkspace.workspace.id;
    await change(server, workspaceId, 'AWAITING_AGENT', 'ONLINE');

    console.log(
      `fanout bench: ${o.changes} status changes ${o.intervalMs} ms apart (after ${o.warmup} unmeasured), ${o.clients} client processes, ` +
        `${os.cpus().length} CPUs, node ${process.version}`,
    );
    for (const n of o.sizes) {
      const g = await runGraphql(server, clients, o, n, workspaceId, gc);
      if (g.finalStatus === 'DEGRADED') await change(server, workspaceId, 'DEGRADED', 'ONLINE');
      if (!g.sample) throw new Error(`no graphql-ws message arrived at N=${n}: ${g.errors.join('; ')}`);
      const b = await runBaseline(clients, o, n, g.sample);
      const ratio = g.lat.p99 / b.lat.p99;
      console.log(`\nN = ${n}`);
      console.log(`  graphql-ws   commit→delivery p50 ${ms(g.lat.p50)}  p99 ${ms(g.lat.p99)}  max ${ms(g.lat.max)}  delivered ${g.lat.delivered}/${g.lat.expected}${g.failed ? `  (${g.failed} failed to connect)` : ''}`);
      console.log(`  bare ws      send→delivery   p50 ${ms(b.lat.p50)}  p99 ${ms(b.lat.p99)}  max ${ms(b.lat.max)}  delivered ${b.lat.delivered}/${b.lat.expected}`);
      console.log(`  p99 ratio    ${ratio.toFixed(2)}× baseline   (target ≤ 3×, and p99 ≤ 250 ms: ${ratio <= 3 && g.lat.p99 <= 250 ? 'met' : 'NOT met'})`);
      // RSS moves with the heap's page reservations (GC hands pages back to the OS or keeps them), so
      // at small N its delta is mostly noise; heap + external is what the subscribers hold.
      console.log(
        `  memory per idle subscriber: heap+external ${kib(g.perSubscriberJs)} (target ≤ 20 KiB: ${g.perSubscriberJs <= 20 * 1024 ? 'met' : 'NOT met'}), ` +
          `RSS delta ${kib(g.perSubscriberRss)} (noisy)`,
      );
      console.log(`  message size ${Buffer.byteLength(g.sample)} bytes${g.errors.length ? `; client errors: ${g.errors.slice(0, 3).join(' | ')}` : ''}`);
    }
  } finally {
    clients.kill();
    await server?.close();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, run);
