// API throughput benchmark, each figure beside a baseline measured in the same run on the same
// PostgreSQL server (a scratch database on TEST_DATABASE_URL, default the local server):
//   (a) `workspaces(first: 50)` with parent, children, tokens and secretKeys over ~200 workspaces,
//       against a bare node:http server answering the same JSON from one hand-written query;
//   (b) POST /registry/heartbeat against a bare node:http server doing a token-hash lookup and the
//       heartbeat UPDATE by hand;
//   (c) POST /registry/heartbeat with 1,000 workspaceActivity subscribers connected (graphql-ws, in child
//       processes) against the same server with none, every heartbeat changing uptime so that each one
//       is activity to push: once with each subscriber watching one of the heartbeating workspaces,
//       once with every subscriber watching all workspaces.
// autocannon runs in a child process (bench/api-load.ts) over loopback: one unmeasured run of each side,
// then rounds in ABBA order, each a warm-up and a fixed measured time.
//
//   npm run bench -- api [--duration=10] [--warmup=2] [--connections=32] [--workspaces=200] [--rounds=2]
//                        [--only=list|heartbeat|activity] [--subscribers=1000]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';
import { startHeartbeatBaseline, startListBaseline, type Baseline } from './api-baseline.js';
import type { LoadJob } from './api-load.js';
import { compare, load, processCpuUs, type Measured } from './api-measure.js';
import { benchServerEnv, scratchDatabase } from './scratch-db.js';
import { runIfMain } from './cli.js';
import { adminGql, adminHeaders, BENCH_ADMIN_TOKEN } from './admin-gql.js';
import type { ClientReply } from './fanout-client.js';
import { Clients } from './subscriber-pool.js';

export const LIST_QUERY = `query List {
  workspaces(first: 50) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id name role tier runtime status url activeTasks lastErrorRate createdAt
      parent { id name status }
      children { id name status }
      tokens { id prefix createdAt }
      secretKeys
    } }
  }
}`;

interface Options {
  only: 'list' | 'heartbeat' | 'activity' | null;
  subscribers: number;
  rounds: number;
  durationS: number;
  warmupS: number;
  connections: number;
  workspaces: number;
}

function parseArgs(argv: string[]): Options {
  const get = (name: string, def: number) => {
    const a = argv.find((x) => x.startsWith(`--${name}=`));
    const v = a ? Number(a.slice(name.length + 3)) : def;
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
    return v;
  };
  const only = argv.find((x) => x.startsWith('--only='))?.slice('--only='.length) ?? null;
  if (only !== null && only !== 'list' && only !== 'heartbeat' && only !== 'activity') throw new Error('--only must be list, heartbeat or activity');
  return {
    only,
    subscribers: get('subscribers', 1000),
    rounds: get('rounds', 2),
    durationS: get('duration', 10),
    warmupS: get('warmup', 2),
    connections: get('connections', 32),
    workspaces: get('workspaces', 200),
  };
}


/** A forest of external workspaces (roots with nine children each), two secrets each; returns the
 * agent tokens createWorkspace handed out. */
async function seed(server: RunningServer, count: number): Promise<Array<{ id: string; token: string }>> {
  const create = `mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) {
    __typename ... on CreateWorkspaceSuccess { token workspace { id } } ... on Error { message } } }`;
  const agents: Array<{ id: string; token: string }> = [];
  let parentId: string | null = null;
  for (let i = 0; i < count; i++) {
    const input = {
      name: `bench-${i}`,
      role: 'benchmark',
      runtime: 'external',
      parentId: i % 10 === 0 ? null : parentId,
      secrets: [
        { key: 'API_KEY', value: `secret-${i}` },
        { key: 'MODEL', value: 'small' },
      ],
    };
    const data: { createWorkspace: { __typename: string; token?: string; workspace?: { id: string }; message?: string } } = await adminGql(
      server.url,
      create,
      { input },
    );
    const r = data.createWorkspace;
    if (r.__typename !== 'CreateWorkspaceSuccess') throw new Error(`seeding failed: ${r.message}`);
    if (i % 10 === 0) parentId = r.workspace!.id;
    agents.push({ id: r.workspace!.id, token: r.token! });
  }
  return agents;
}

/** The GraphQL answer and the baseline's must carry the same data, or the comparison means nothing. */
async function checkSameList(serverUrl: string, baselineUrl: string): Promise<void> {
  const post = (url: string) =>
    fetch(url, { method: 'POST', headers: adminHeaders, body: JSON.stringify({ query: LIST_QUERY }) }).then(
      (r) => r.json() as Promise<{ data: { workspaces: { totalCount: number; edges: Array<{ node: Record<string, any> }> } } }>,
    );
  const [a, b] = await Promise.all([post(`${serverUrl}/graphql`), post(baselineUrl)]);
  const shape = (d: typeof a) =>
    JSON.stringify({
      total: d.data.workspaces.totalCount,
      nodes: d.data.workspaces.edges.map(({ node: n }) => [n.id, n.name, n.status, n.parent?.id ?? null, n.children.map((c: any) => c.id), n.tokens.map((t: any) => t.id), n.secretKeys]),
    });
  if (shape(a) !== shape(b)) throw new Error('the baseline list differs from the GraphQL answer');
}

interface Context {
  o: Options;
  server: RunningServer;
  pool: pg.Pool;
  agents: Array<{ id: string; token: string }>;
  baselines: Baseline[];
}

const job = (o: Options, url: string, requests: LoadJob['requests'], varyUptime = false): LoadJob => ({
  url,
  connections: o.connections,
  warmupS: o.warmupS,
  durationS: o.durationS,
  requests,
  varyUptime,
});

async function benchList({ o, server, pool, baselines }: Context): Promise<void> {
  const baseline = await startListBaseline(pool, BENCH_ADMIN_TOKEN);
  baselines.push(baseline);
  await checkSameList(server.url, baseline.url);
  const request = {
    method: 'POST' as const,
    path: '/graphql',
    headers: adminHeaders,
    body: JSON.stringify({ query: LIST_QUERY, operationName: 'List' }),
  };
  await compare(
    o,
    '(a) workspaces(first: 50) { parent children tokens secretKeys … } vs node:http + one hand-written query',
    0.5,
    () => load(job(o, server.url, [request])),
    () => load(job(o, baseline.url, [request])),
  );
}

/** Heartbeats cycling over the first 50 agents, each connection starting at a different one. */
function heartbeatRequests(agents: Context['agents']): LoadJob['requests'] {
  return agents.slice(0, 50).map((a, i) => ({
    method: 'POST' as const,
    path: '/registry/heartbeat',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${a.token}` },
    body: JSON.stringify({ workspace_id: a.id, error_rate: 0, sample_error: '', active_tasks: i % 3, uptime_seconds: 100 + i, current_task: '', runtime_state: '' }),
  }));
}

async function benchHeartbeat({ o, server, pool, agents, baselines }: Context): Promise<void> {
  const baseline = await startHeartbeatBaseline(pool);
  baselines.push(baseline);
  const requests = heartbeatRequests(agents);
  await compare(
    o,
    '(b) POST /registry/heartbeat vs node:http + token lookup + UPDATE',
    0.6,
    () => load(job(o, server.url, requests)),
    () => load(job(o, baseline.url, requests)),
  );
}

const ACTIVITY_SUBSCRIPTION = `subscription($w: ID) { workspaceActivity(workspaceId: $w) {
  id activeTasks currentTask lastErrorRate uptimeSeconds lastHeartbeatAt status } }`;

/**
 * Heartbeats with `o.subscribers` workspaceActivity subscribers connected against the same heartbeats
 * with none, ABBA. The subscribers live in two child processes (one socket each) and are connected
 * before and closed after each measured run; every heartbeat changes uptime, so every heartbeat is
 * activity to push (throttled to one delivery per workspace per ACTIVITY_PUSH_INTERVAL_MS).
 */
async function benchActivity({ o, server, agents }: Context, watch: 'one workspace each' | 'every workspace'): Promise<void> {
  const requests = heartbeatRequests(agents);
  const watched = agents.slice(0, requests.length).map((a) => ({ w: a.id }));
  const clients = Clients.start(2);
  const delivered: number[] = [];
  /** CPU the subscriber processes used, in CPUs (1 = one core busy), while a run was measured. */
  const subscriberCpus: number[] = [];
  const subscribersCpuUs = async () => {
    let us = 0;
    for (const c of clients.children) us += (await processCpuUs(c.pid!)) ?? 0;
    return us;
  };
  const wsUrl = `${server.url.replace(/^http/, 'ws')}/graphql`;
  try {
    const withSubscribers = async (): Promise<Measured> => {
      const connected = await clients.connect('graphql', wsUrl, o.subscribers, ACTIVITY_SUBSCRIPTION, watch === 'one workspace each' ? watched : [{}]);
      const sockets = connected.reduce((n, c) => n + c.sockets, 0);
      if (sockets !== o.subscribers) throw new Error(`only ${sockets} of ${o.subscribers} subscribers connected`);
      while (server.services.activity.subscriberCount() < o.subscribers) await new Promise((r) => setTimeout(r, 20));
      const cpuBefore = await subscribersCpuUs();
      const started = Date.now();
      const measured = await load(job(o, server.url, requests, true));
      subscriberCpus.push(((await subscribersCpuUs()) - cpuBefore) / ((Date.now() - started) * 1000));
      const counts = (await clients.all(() => ({ cmd: 'count' }))) as Array<Extract<ClientReply, { kind: 'count' }>>;
      delivered.push(counts.reduce((n, c) => n + c.nexts, 0) / (o.durationS + o.warmupS));
      await clients.close();
      while (server.services.activity.subscriberCount() > 0) await new Promise((r) => setTimeout(r, 20));
      return measured;
    };
    await compare(
      o,
      `(c) POST /registry/heartbeat with ${o.subscribers} workspaceActivity subscribers (${watch}) vs none, every heartbeat changing uptime`,
      0.9,
      withSubscribers,
      () => load(job(o, server.url, requests, true)),
      [`${o.subscribers} subscribers`, 'no subscriber'],
    );
    const perSecond = delivered.reduce((a, b) => a + b, 0) / delivered.length;
    const cpus = subscriberCpus.reduce((a, b) => a + b, 0) / subscriberCpus.length;
    console.log(`  pushed     ${perSecond.toFixed(0)} workspaceActivity messages/s to the subscribers on average while measured`);
    console.log(`  receiving  took the subscriber processes ${(cpus * 100).toFixed(0)}% of one CPU (of ${os.cpus().length}, shared with the server)`);
  } finally {
    clients.kill();
  }
}

export async function run(argv: string[] = process.argv.slice(2)): Promise<void> {
  const o = parseArgs(argv);
  const db = await scratchDatabase('api');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-api-'));
  let server: RunningServer | undefined;
  const baselines: Baseline[] = [];
  const pool = new pg.Pool({ connectionString: db.url, max: 20 });
  try {
    server = await startServer(
      loadConfig(
        benchServerEnv(db, dataDir, BENCH_ADMIN_TOKEN, {
          // 'error': dropping the scratch database at the end kills idle pool connections, which warn
          LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error',
        }),
      ),
    );
    const agents = await seed(server, o.workspaces);
    const pgVersion = (await pool.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
    console.log(
      `api bench: ${os.cpus().length} CPUs (load average ${os.loadavg()[0]!.toFixed(1)}), node ${process.version}, PostgreSQL ${pgVersion}, ` +
        `${o.workspaces} workspaces, ${o.connections} connections, ${o.rounds} rounds (ABBA) of ${o.warmupS} s warm-up + ${o.durationS} s per side; autocannon in a child process`,
    );
    const ctx: Context = { o, server, pool, agents, baselines };
    if (o.only === null || o.only === 'list') await benchList(ctx);
    if (o.only === null || o.only === 'heartbeat') await benchHeartbeat(ctx);
    if (o.only === null || o.only === 'activity') {
      await benchActivity(ctx, 'one workspace each');
      await benchActivity(ctx, 'every workspace');
    }
  } finally {
    for (const b of baselines) await b.close();
    await pool.end();
    await server?.close();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, run);
