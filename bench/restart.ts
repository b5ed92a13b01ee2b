// Restart benchmark on the real Docker daemon with the reference agent, each figure the median of N
// (default 20) beside a baseline measured in the same run:
//   (1) server overhead: from the restart's PROVISIONING commit to the new container's start (both
//       stamped by the server's own log lines), against the same container stopped, removed, created
//       and started by direct dockerode calls. Target ratio ≤ 1.3.
//   (2) restart to ONLINE, end to end (mutation sent → WORKSPACE_ONLINE committed), beside the agent's
//       own part of it: from its container's start to its first request (the register) reaching us.
// The server runs in this process on a scratch database of TEST_DATABASE_URL (default the local server).
//
//   npx tsx bench/restart.ts [--rounds=20]      or      npm run bench -- restart [--rounds=20]
//
// With --swarm, the same on a Docker Swarm (bench/restart-swarm.ts), plus node loss:
//   npm run bench -- restart --swarm [--rounds=10] [--node-loss=3] [--tls]
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../config.js';
import { startServer } from '../server.js';
import { LOOP_NAMES } from '../services/reconcilers/index.js';
import { RECONCILER_LOCK_CLASS } from '../services/reconcilers/leadership.js';
import { containerSpecFor } from '../services/provisioning/container-spec.js';
import { dockerClient, parseDockerHost } from '../services/runtime/docker-connection.js';
import { containerNameFor } from '../services/runtime/types.js';
import { createDockerRuntime } from '../services/runtime/docker.js';
import type { WorkspaceRecord } from '../services/workspaces/record.js';
import { scratchDatabase } from './scratch-db.js';
import { runIfMain } from './cli.js';
import { adminGql } from './admin-gql.js';
import { eventTimes, median, ms, restartServerEnv, stampCollector } from './restart-stamps.js';
import { runSwarm } from './restart-swarm.js';

const DOCKER_HOST = process.env.DOCKER_HOST;
const QUIET_S = '3600';

export async function run(argv: string[]): Promise<void> {
  if (argv.includes('--swarm')) return runSwarm(argv);
  const roundsArg = argv.find((a) => a.startsWith('--rounds='));
  const rounds = roundsArg ? Number(roundsArg.slice('--rounds='.length)) : 20;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  const runtime = createDockerRuntime({ dockerHost: DOCKER_HOST });
  if (!(await runtime.ping())) throw new Error('no Docker daemon answers; the restart benchmark needs one');
  if (!(await runtime.imageExists('workspace-agent:latest'))) throw new Error('workspace-agent:latest is missing: npm run agent:image');

  const db = await scratchDatabase('restart');
  // This server must not reap the containers of other servers sharing the daemon: hold its orphan
  // sweeper's leadership lock for the whole run.
  const holder = new pg.Client({ connectionString: db.url });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-restart-'));
  const stamps = stampCollector();
  const raw = dockerClient(parseDockerHost(DOCKER_HOST), 60_000);
  const baselineName = `bench-restart-baseline-${randomBytes(4).toString('hex')}`;
  let workspaceId: string | undefined;
  await holder.connect();
  await holder.query('SELECT pg_advisory_lock($1::int, $2::int)', [RECONCILER_LOCK_CLASS, LOOP_NAMES.indexOf('orphan-sweeper') + 1]);
  const server = await (async () => {
    const config = loadConfig({
      ...restartServerEnv(db.url, dataDir, 'docker'),
      HEALTH_SWEEP_INTERVAL_S: QUIET_S,
      ...(DOCKER_HOST ? { DOCKER_HOST } : {}),
    });
    return startServer(config, { log: stamps.log });
  })().catch(async (err) => {
    await holder.end().catch(() => {});
    await db.drop();
    throw err;
  });

  const gql = <T>(query: string, variables: Record<string, unknown> = {}) => adminGql<T>(server.url, query, variables);
  const { lastEvent, requestedGeneration, waitOnline } = eventTimes(server);

  try {
    const created = await gql<{ createWorkspace: { workspace: WorkspaceRecord } }>(
      `mutation { createWorkspace(input: { name: "bench restart" }) { ... on CreateWorkspaceSuccess { workspace { id } } } }`,
    );
    workspaceId = created.createWorkspace.workspace.id;
    await waitOnline(workspaceId, '0');

    // The baseline container: the same spec, driven by hand (stop, remove, create, start).
    const workspace = (await server.services.workspaces.get(workspaceId))!;
    const spec = containerSpecFor({ workspace, generation: 0, secrets: {}, config: server.config, platformUrl: 'http://127.0.0.1:1', deploymentId: server.services.deps.deploymentId });
    const hostCpus = await runtime.hostCpuCount();
    const create = () =>
      raw.createContainer({
        name: baselineName,
        Image: spec.image,
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        Labels: { 'molecule.bench': 'restart' },
        HostConfig: {
          Memory: spec.memoryBytes,
          NanoCpus: Math.round(Math.min(spec.cpus, hostCpus) * 1e9),
          RestartPolicy: { Name: 'no' },
          NetworkMode: spec.network,
          Mounts: [{ Type: 'volume', Source: `${baselineName}-configs`, Target: '/configs' }],
        },
      });
    let container = await create();
    await container.start();

    // Rounds alternate server and baseline, so both see the same load on the machine. A server round
    // disturbed from outside (another process removing our container) is retried, and counted.
    const overhead: number[] = [];
    const baseline: number[] = [];
    const toOnline: number[] = [];
    const agentFirst: number[] = [];
    let disturbed = 0;
    for (let i = 0; overhead.length < rounds; i++) {
      const before = await lastEvent();
      const sentAt = performance.timeOrigin + performance.now();
      await gql(`mutation($id: ID!) { restartWorkspace(id: $id) { __typename } }`, { id: workspaceId });
      const generation = await requestedGeneration(workspaceId, before);
      let round: { overhead: number; toOnline: number; agentFirst: number };
      try {
        const committed = await stamps.wait('provisioning requested', workspaceId, generation, 15_000);
        const started = await stamps.wait('workspace container started', workspaceId, generation, 15_000);
        const online = await waitOnline(workspaceId, before);
        const inspect = await raw.getContainer(containerNameFor(workspaceId)).inspect();
        const dockerStarted = Date.parse(inspect.State.StartedAt.replace(/(\.\d{3})\d*Z$/, '$1Z'));
        round = { overhead: started - committed, toOnline: online.at - sentAt, agentFirst: online.at - dockerStarted };
      } catch (err) {
        if (++disturbed > rounds) throw err;
        await server.services.lifecycle.idle();
        continue;
      }
      const t0 = performance.now();
      await container.stop({ t: 3 });
      await container.remove();
      container = await create();
      await container.start();
      const direct = performance.now() - t0;
      if (i === 0) continue; // warm-up
      overhead.push(round.overhead);
      toOnline.push(round.toOnline);
      agentFirst.push(round.agentFirst);
      baseline.push(direct);
    }

    const mo = median(overhead);
    const mb = median(baseline);
    console.log(`restart benchmark, median of ${rounds} (reference agent, DOCKER_NETWORK=host)`);
    console.log(`(1) PROVISIONING commit → container started: server ${ms(mo)} vs direct dockerode stop+remove+create+start ${ms(mb)}: ratio ${(mo / mb).toFixed(2)} (target ≤ 1.3)`);
    if (disturbed > 0) console.log(`(${disturbed} round(s) disturbed from outside were retried)`);
    console.log(`(2) restart → ONLINE end to end: ${ms(median(toOnline))}; beside it, the agent's first request (container start → its register committed): ${ms(median(agentFirst))}`);
  } finally {
    await raw.getContainer(baselineName).remove({ force: true }).catch(() => {});
    await raw.getVolume(`${baselineName}-configs`).remove().catch(() => {});
    if (workspaceId) await gql(`mutation($id: ID!) { deleteWorkspace(id: $id, confirm: true) { __typename } }`, { id: workspaceId }).catch(() => {});
    await server.services.lifecycle.idle().catch(() => {});
    await new Promise((r) => setTimeout(r, 500));
    await server.close();
    await holder.end().catch(() => {});
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, run);
