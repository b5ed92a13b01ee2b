// The restart benchmark on Docker Swarm (`npm run bench -- restart --swarm`), on the two-node test swarm
// of .ci/start-swarm.sh (started when it is not up; SWARM_ROOT, SWARM_MANAGER_ADDR, SWARM_WORKER_ADDR
// choose which). It kills that swarm's worker: never point it at a swarm that matters. With the
// reference agent, each figure the median of N rounds (default 10):
//   (1) server overhead: from the restart's PROVISIONING commit (the server's own log stamp) to the new
//       task running (the manager's timestamp of the task's "running" state), against the same service
//       spec driven by direct dockerode calls: remove the previous service and its secret, create the
//       token secret, createService with one replica → task running (same timestamp). Both run on the
//       manager node (SWARM_PLACEMENT=node.role==manager), and rounds alternate between the two, so
//       both see the same node and the same load. Target ratio ≤ 1.3.
//   (2) restart → ONLINE, end to end (mutation sent → WORKSPACE_ONLINE committed).
//   (3) node loss (--node-loss=N, default 3; 0 skips it): N workspaces run on the worker, whose host is
//       killed; printed beside the time Swarm itself needs to mark the node down: when each workspace
//       was OFFLINE, and when it was ONLINE again on the manager. That server runs with the default
//       health-sweep interval (15 s), as a deployment would.
// --tls: the server and the direct calls reach the manager over TCP with TLS (DOCKER_TLS_VERIFY).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { loadConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';
import { containerSpecFor } from '../services/provisioning/container-spec.js';
import { dockerClient, parseDockerHost, statusOf } from '../services/runtime/docker-connection.js';
import { currentTask, isTerminal, type SwarmServiceSpec, type SwarmTask } from '../services/runtime/swarm-model.js';
import { largestAllowedNode, parseConstraint, type SwarmNode } from '../services/runtime/swarm-placement.js';
import { pinImage, serviceSpecFor } from '../services/runtime/swarm-spec.js';
import { containerNameFor } from '../services/runtime/types.js';
import { killWorker, readSwarmHarness, runSwarmScript, startWorker, type UpSwarm } from '../test/support/swarm-script.js';
import { adminGql } from './admin-gql.js';
import { eventTimes, median, ms, restartServerEnv, stampCollector } from './restart-stamps.js';
import { scratchDatabase } from './scratch-db.js';

const QUIET_S = '3600';
/** Where the restart rounds run, the server's workspace and the direct service alike. */
const SAME_NODE = 'node.role==manager';
const nowMs = () => performance.timeOrigin + performance.now();
/** The manager's RFC 3339 timestamps carry nanoseconds; Date.parse wants at most milliseconds. */
const parseTime = (t: string) => Date.parse(t.replace(/(\.\d{3})\d*Z$/, '$1Z'));

function intArg(argv: string[], name: string, def: number, min: number): number {
  const raw = argv.find((a) => a.startsWith(`--${name}=`));
  const value = raw ? Number(raw.slice(name.length + 3)) : def;
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return value;
}

/** When the service's current task started running, by the manager's clock; throws if it cannot run. */
async function taskRunningAt(api: Docker, service: string, timeoutMs = 30_000): Promise<number> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    const task = currentTask((await api.listTasks({ filters: { service: [service] } })) as SwarmTask[]);
    const state = task?.Status?.State;
    if (state === 'running' && task?.Status?.Timestamp) return parseTime(task.Status.Timestamp);
    if (state && isTerminal(state)) throw new Error(`the task of ${service} is ${state}: ${task?.Status?.Err ?? ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the task of ${service} was not running within ${timeoutMs} ms`);
}

/**
 * Waits until no task that is meant to stop still runs. Swarm signals a removed service's task only
 * about 2-3 s after the removal, and until it has stopped its reservation counts: on the test nodes (two
 * CPUs each) the next task would wait for it, and the rounds would measure that wait instead of the
 * path. Answers how long it waited.
 */
async function settle(api: Docker): Promise<number> {
  const t0 = nowMs();
  for (;;) {
    const tasks = (await api.listTasks()) as SwarmTask[];
    const leaving = tasks.filter((t) => t.DesiredState !== 'running' && !isTerminal(t.Status?.State ?? ''));
    if (leaving.length === 0) return nowMs() - t0;
    if (nowMs() - t0 > 60_000) throw new Error(`${leaving.length} task(s) did not stop within 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The node the service's running task is on. */
async function nodeOf(api: Docker, service: string): Promise<string | undefined> {
  return currentTask((await api.listTasks({ filters: { service: [service], 'desired-state': ['running'] } })) as SwarmTask[])?.NodeID;
}

async function setAvailability(api: Docker, nodeId: string, availability: 'active' | 'pause'): Promise<void> {
  const node = (await api.getNode(nodeId).inspect()) as { Version: { Index: number }; Spec: Record<string, unknown> };
  await api.getNode(nodeId).update({ _query: { version: node.Version.Index }, _body: { ...node.Spec, Availability: availability } });
}

/** A server in this process on a scratch database, its provisioning stamps collected. */
async function benchServer(runtimeEnv: Record<string, string>, overrides: Record<string, string>) {
  const db = await scratchDatabase('restart_swarm');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-restart-swarm-'));
  const stamps = stampCollector();
  const config = loadConfig({
    ...restartServerEnv(db.url, dataDir, 'swarm'),
    ...runtimeEnv,
    ...overrides,
  });
  let server: RunningServer;
  try {
    server = await startServer(config, { log: stamps.log });
  } catch (err) {
    await db.drop();
    throw err;
  }
  const gql = <T>(query: string, variables: Record<string, unknown> = {}) => adminGql<T>(server.url, query, variables);
  const created: string[] = [];
  return {
    server,
    stamps,
    gql,
    events: eventTimes(server),
    async create(name: string, tier: number): Promise<string> {
      const r = await gql<{ createWorkspace: { workspace: { id: string } } }>(
        `mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { ... on CreateWorkspaceSuccess { workspace { id } } } }`,
        { input: { name, tier } },
      );
      created.push(r.createWorkspace.workspace.id);
      return r.createWorkspace.workspace.id;
    },
    async close() {
      for (const id of created) await gql(`mutation($id: ID!) { deleteWorkspace(id: $id, confirm: true) { __typename } }`, { id }).catch(() => {});
      await server.services.lifecycle.idle().catch(() => {});
      await new Promise((r) => setTimeout(r, 500));
      await server.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The workspace's service spec, run by hand: previous service and secret removed, secret, service. */
function directDriver(api: Docker, name: string, spec: SwarmServiceSpec) {
  let previousSecret: string | null = null;
  let generation = 0;
  const removeSecret = async (secret: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await api.getSecret(secret).remove();
      } catch (err) {
        if (statusOf(err) === 404) return;
        // Still referenced for a moment after its service went (as swarm-secrets.ts retries).
        if (statusOf(err) !== 400 || attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, 20 * attempt));
      }
    }
  };
  const removeService = () => api.getService(name).remove().catch((err: unknown) => (statusOf(err) === 404 ? undefined : Promise.reject(err)));
  return {
    /** One restart by hand; answers milliseconds from its first call to the new task running. */
    async restart(): Promise<number> {
      generation += 1;
      const t0 = nowMs();
      await removeService();
      if (previousSecret) await removeSecret(previousSecret);
      const secretName = `${name}-token-${generation}`;
      const secret = await api.createSecret({ _query: {}, _body: { Name: secretName, Data: randomBytes(24).toString('base64') } });
      previousSecret = secretName;
      const container = spec.TaskTemplate?.ContainerSpec ?? {};
      const body: SwarmServiceSpec = {
        ...spec,
        TaskTemplate: {
          ...spec.TaskTemplate,
          ContainerSpec: { ...container, Secrets: [{ SecretID: secret.id as string, SecretName: secretName, File: { Name: '/configs/.auth_token', UID: '0', GID: '0', Mode: 0o600 } }] },
        },
        Mode: { Replicated: { Replicas: 1 } },
      };
      // No registry credentials: the one-argument form would send the spec as X-Registry-Auth.
      await api.createService(undefined as unknown as Docker.AuthConfig, body as Docker.ServiceSpec);
      return (await taskRunningAt(api, name)) - t0;
    },
    async dispose() {
      await removeService().catch(() => {});
      if (previousSecret) await removeSecret(previousSecret).catch(() => {});
    },
  };
}

async function restartRounds(h: UpSwarm, api: Docker, runtimeEnv: Record<string, string>, rounds: number): Promise<void> {
  // Both on the same node, so that the ratio compares the paths and not two nodes' daemons.
  const b = await benchServer(runtimeEnv, { HEALTH_SWEEP_INTERVAL_S: QUIET_S, SWARM_PLACEMENT: SAME_NODE });
  const baselineName = `bench-swarm-restart-${randomBytes(4).toString('hex')}`;
  let direct: ReturnType<typeof directDriver> | null = null;
  try {
    // Tier 1 (0.5 CPU reserved): a task being replaced still holds its reservation for a moment, and
    // the test nodes have two CPUs each.
    const id = await b.create('bench restart swarm', 1);
    await b.events.waitOnline(id, '0');
    const service = containerNameFor(id);

    const workspace = (await b.server.services.workspaces.get(id))!;
    const spec = containerSpecFor({ workspace, generation: 0, secrets: {}, config: b.server.config, platformUrl: 'http://127.0.0.1:1', deploymentId: b.server.services.deps.deploymentId });
    const [image, nodes] = await Promise.all([pinImage(api, spec.image), api.listNodes() as Promise<SwarmNode[]>]);
    const baselineSpec = serviceSpecFor({
      spec: { ...spec, name: baselineName, labels: { 'molecule.bench': 'restart-swarm' } },
      image,
      constraints: [SAME_NODE],
      capacity: largestAllowedNode(nodes, [parseConstraint(SAME_NODE)]),
    });
    direct = directDriver(api, baselineName, baselineSpec);
    await direct.restart();

    const overhead: number[] = [];
    const startReturned: number[] = [];
    const baseline: number[] = [];
    const toOnline: number[] = [];
    const placed = { manager: 0, worker: 0 };
    const directPlaced = { manager: 0, worker: 0 };
    const settled: number[] = [];
    for (let i = 0; overhead.length < rounds; i++) {
      settled.push(await settle(api));
      const before = await b.events.lastEvent();
      const sentAt = nowMs();
      await b.gql(`mutation($id: ID!) { restartWorkspace(id: $id) { __typename } }`, { id });
      const generation = await b.events.requestedGeneration(id, before);
      const committed = await b.stamps.wait('provisioning requested', id, generation, 15_000);
      const started = await b.stamps.wait('workspace container started', id, generation, 15_000);
      const runningAt = await taskRunningAt(api, service);
      const online = await b.events.waitOnline(id, before);
      const node = await nodeOf(api, service);
      settled.push(await settle(api));
      const directMs = await direct.restart();
      const directNode = await nodeOf(api, baselineName);
      if (i === 0) continue; // warm-up
      overhead.push(runningAt - committed);
      startReturned.push(started - committed);
      toOnline.push(online.at - sentAt);
      baseline.push(directMs);
      placed[node === h.workerNode ? 'worker' : 'manager'] += 1;
      directPlaced[directNode === h.workerNode ? 'worker' : 'manager'] += 1;
    }
    const mo = median(overhead);
    const mb = median(baseline);
    console.log(`restart benchmark on Swarm, median of ${rounds} (reference agent, tier 1, DOCKER_NETWORK=host, SWARM_PLACEMENT=${SAME_NODE}, manager via ${runtimeEnv.DOCKER_HOST}${runtimeEnv.DOCKER_TLS_VERIFY ? ' with TLS' : ''})`);
    console.log(`(1) PROVISIONING commit → task running: server ${ms(mo)} vs direct dockerode remove+secret+createService → task running ${ms(mb)}: ratio ${(mo / mb).toFixed(2)} (target ≤ 1.3)`);
    console.log(`    (the server's start() returned ${ms(median(startReturned))} after the commit, when the manager reported the task running;`);
    console.log(`     tasks ran on manager/worker: server ${placed.manager}/${placed.worker}, direct ${directPlaced.manager}/${directPlaced.worker})`);
    console.log(`(2) restart → ONLINE end to end: ${ms(median(toOnline))}`);
    console.log(`    (before each timed restart, the tasks being replaced were let stop first: a median ${ms(median(settled))} wait, Swarm's own stop delay)`);
  } finally {
    await direct?.dispose();
    await b.close();
  }
}

async function nodeLoss(h: UpSwarm, api: Docker, runtimeEnv: Record<string, string>, count: number): Promise<void> {
  const b = await benchServer(runtimeEnv, {});
  let killed = false;
  try {
    // New tasks go to the worker only while the manager is paused (its running tasks stay).
    const ids: string[] = [];
    await setAvailability(api, h.managerNode, 'pause');
    try {
      for (let i = 0; i < count; i++) ids.push(await b.create(`bench node loss ${i}`, 1));
      await Promise.all(ids.map((id) => b.events.waitOnline(id, '0')));
    } finally {
      await setAvailability(api, h.managerNode, 'active');
    }
    for (const id of ids) {
      const node = await nodeOf(api, containerNameFor(id));
      if (node !== h.workerNode) throw new Error(`workspace ${id} runs on ${node}, not on the worker`);
    }

    const before = await b.events.lastEvent();
    const t0 = nowMs();
    killWorker(h);
    killed = true;
    const nodeDown = (async () => {
      for (;;) {
        const state = ((await api.getNode(h.workerNode).inspect()) as SwarmNode).Status?.State;
        if (state === 'down') return nowMs() - t0;
        if (nowMs() - t0 > 120_000) throw new Error('Swarm did not mark the worker down within 120 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const workspaces = await Promise.all(
      ids.map(async (id) => {
        const offline = await b.events.waitFor(id, 'WORKSPACE_OFFLINE', before, 180_000);
        const online = await b.events.waitOnline(id, offline.id, 180_000);
        return { id, offline: offline.at - t0, online: online.at - t0, node: await nodeOf(api, containerNameFor(id)) };
      }),
    );
    const downMs = await nodeDown;
    const elsewhere = workspaces.filter((w) => w.node === h.managerNode).length;
    const offline = workspaces.map((w) => w.offline);
    const online = workspaces.map((w) => w.online);
    console.log(`(3) node loss, ${count} workspace(s) on the worker, its host killed (HEALTH_SWEEP_INTERVAL_S=15):`);
    console.log(`    Swarm marks the node down: ${ms(downMs)}`);
    console.log(`    workspaces OFFLINE: median ${ms(median(offline))}, last ${ms(Math.max(...offline))}`);
    console.log(`    workspaces ONLINE again: median ${ms(median(online))}, last ${ms(Math.max(...online))} (${elsewhere} of ${count} on the manager); last ONLINE − node down: ${ms(Math.max(...online) - downMs)}`);
  } finally {
    if (killed) startWorker(h);
    await b.close();
  }
}

export async function runSwarm(argv: string[]): Promise<void> {
  const rounds = intArg(argv, 'rounds', 10, 1);
  const lossCount = intArg(argv, 'node-loss', 3, 0);
  const up = runSwarmScript('up');
  if (!up.ok) throw new Error(`the two-node test swarm did not start:\n${up.output}`);
  const h = readSwarmHarness();
  const runtimeEnv: Record<string, string> = argv.includes('--tls')
    ? { DOCKER_HOST: h.managerTcp, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: h.certPath }
    : { DOCKER_HOST: h.managerHost };
  // The direct calls go the same way as the server's (over TLS with --tls).
  const config = loadConfig({ CONTAINER_RUNTIME: 'swarm', ...runtimeEnv });
  const api = dockerClient(parseDockerHost(config.dockerHost, config.dockerTls), 60_000);
  await restartRounds(h, api, runtimeEnv, rounds);
  if (lossCount > 0) await nodeLoss(h, api, runtimeEnv, lossCount);
}
