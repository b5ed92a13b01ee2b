// The Swarm ContainerRuntime against a real two-node swarm of private daemons (manager 127.0.0.1,
// worker 127.0.0.2; .ci/start-swarm.sh). Skipped only outside CI when the swarm cannot start.
// The worker-loss test kills the worker host; it comes last and boots the worker again.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { createRuntime } from '../../services/runtime/select.js';
import { createSwarmRuntime, type SwarmRuntime } from '../../services/runtime/swarm.js';
import { LABEL_DEPLOYMENT } from '../../services/runtime/swarm-spec.js';
import { startPrivateDockerd } from '../support/private-dockerd.js';
import {
  ContainerNameConflict,
  LABEL_GENERATION,
  LABEL_MANAGED,
  LABEL_WORKSPACE_ID,
  RuntimeUnavailable,
  type ContainerSpec,
  type RuntimeEvent,
} from '../../services/runtime/types.js';
import { testLog } from '../support/reconcilers.js';
import { killWorker, nodeClient, provisionOn, removeTestServices, startWorker, swarmHarness, swarmWorkspaceSpec } from '../support/swarm.js';

const IMAGE = 'workspace-agent:latest';
const h = swarmHarness();
const up = h.available ? h : null;
const DEPLOYMENT = `test-${randomUUID().slice(0, 8)}`;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A loopback stand-in for the platform: records each register's bearer token and accepts it. */
async function platformStub() {
  const registrations: Array<{ workspaceId: string; authorization: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/registry/register') {
        registrations.push({ workspaceId: (JSON.parse(body) as { id: string }).id, authorization: req.headers.authorization ?? '' });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"registered"}');
      } else res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, registrations, close: () => new Promise((r) => server.close(r)) };
}

describe.skipIf(!up && !process.env.CI)('swarm runtime (real two-node swarm)', { timeout: 60_000 }, () => {
  const runId = randomUUID().slice(0, 8);
  const manager = nodeClient(up?.managerHost ?? 'unix:///nonexistent');
  let platform: Awaited<ReturnType<typeof platformStub>>;
  const runtimes: SwarmRuntime[] = [];

  function runtime(placement: string[] = []): SwarmRuntime {
    const rt = createSwarmRuntime({ dockerHost: up!.managerHost, placement, deploymentId: DEPLOYMENT, eventPollMs: 200 });
    runtimes.push(rt);
    return rt;
  }

  /** The provisioner's Swarm spec, its agent pointed at this file's platform stub. */
  function spec(workspaceId: string, generation: number, overrides: Partial<ContainerSpec> = {}): ContainerSpec {
    const base = swarmWorkspaceSpec(workspaceId, generation, runId, { image: IMAGE });
    return { ...base, env: { ...base.env, PLATFORM_URL: platform.url }, ...overrides };
  }
  const provision = provisionOn;

  const serviceOf = (name: string) => manager.getService(name).inspect().then((s: any) => s, () => null);
  const secretOf = (name: string) => manager.getSecret(name).inspect().then((s: any) => s, () => null);
  const currentTask = async (serviceName: string) => {
    const tasks = (await manager.listTasks({ filters: { service: [serviceName], 'desired-state': ['running'] } })) as any[];
    return tasks[0] ?? null;
  };

  beforeAll(async () => {
    if (!up) throw new Error(`the two-node swarm is not available: ${(h as { reason: string }).reason}`);
    platform = await platformStub();
  });

  afterAll(async () => {
    await removeTestServices(manager, runId, DEPLOYMENT);
    await platform?.close();
  });

  it('create → token → start: one service and one secret with the contract labels; the agent reads its token', async () => {
    const rt = runtime();
    expect(await rt.ping()).toBe(true);
    expect(rt.available()).toBe(true);
    const workspaceId = randomUUID();
    const s = spec(workspaceId, 1);
    const token = `tok-${randomUUID()}`;
    const started = performance.now();
    const id = await provision(rt, s, token);
    const provisionMs = performance.now() - started;

    const service = await serviceOf(s.name);
    const contract = { [LABEL_MANAGED]: 'true', [LABEL_WORKSPACE_ID]: workspaceId, [LABEL_GENERATION]: '1', [LABEL_DEPLOYMENT]: DEPLOYMENT };
    expect(service.ID).toBe(id);
    expect(service.Spec.Labels).toMatchObject(contract);
    expect(service.Spec.TaskTemplate.ContainerSpec.Labels).toMatchObject(contract);
    expect(service.Spec.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(service.Spec.TaskTemplate.RestartPolicy.Condition).toBe('none');
    expect(service.Spec.TaskTemplate.ContainerSpec.Mounts ?? []).toEqual([]); // no config volume
    const resources = service.Spec.TaskTemplate.Resources;
    expect(resources.Limits).toEqual({ NanoCPUs: 1e8, MemoryBytes: 64 * 1024 * 1024 });
    expect(resources.Reservations).toEqual(resources.Limits);
    // Pinned to the image id: no node ever asks a registry for it.
    expect(service.Spec.TaskTemplate.ContainerSpec.Image).toBe((await manager.getImage(IMAGE).inspect()).Id);

    const secretName = `${s.name}-token-1`;
    const secret = await secretOf(secretName);
    expect(secret.Spec.Labels).toEqual(contract);
    expect(service.Spec.TaskTemplate.ContainerSpec.Secrets).toEqual([
      { SecretID: secret.ID, SecretName: secretName, File: { Name: '/configs/.auth_token', UID: '0', GID: '0', Mode: 0o600 } },
    ]);

    // The agent inside found its token and used it.
    const registration = await waitFor('the agent to register', async () => platform.registrations.find((r) => r.workspaceId === workspaceId));
    expect(registration.authorization).toBe(`Bearer ${token}`);

    // Container describes the running task's container, on whichever node runs it.
    const task = await currentTask(s.name);
    const info = await rt.inspect(s.name);
    expect(info).toMatchObject({ id: task.Status.ContainerStatus.ContainerID, name: `${s.name}.1.${task.ID}`, image: IMAGE, running: true, state: 'running' });
    expect(info!.startedAt).toBeInstanceOf(Date);
    expect(info!.labels).toMatchObject(contract);
    const node = nodeClient(task.NodeID === up!.workerNode ? up!.workerHost : up!.managerHost);
    const exec = await node.getContainer(info!.id).exec({ Cmd: ['stat', '-c', '%a %u %g', '/configs/.auth_token'], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    const out = await new Promise<string>((resolve) => {
      let text = '';
      stream.on('data', (c: Buffer) => (text += c.toString()));
      stream.on('end', () => resolve(text));
    });
    expect(out).toContain('600 0 0');

    // Listings see the service, by label and by name prefix, under the same container id.
    expect((await rt.list([`${LABEL_WORKSPACE_ID}=${workspaceId}`])).map((c) => c.id)).toEqual([info!.id]);
    expect((await rt.listByNamePrefix(s.name)).map((c) => c.name)).toEqual([info!.name]);
    expect((await rt.listVolumes([`${LABEL_WORKSPACE_ID}=${workspaceId}`])).map((v) => v.name)).toEqual([secretName]);
    const health = (await rt.fleetHealth()).filter((t) => t.workspaceId === workspaceId);
    expect(health).toMatchObject([{ generation: 1, state: 'running', nodeState: 'ready', running: true, containerId: info!.id }]);
    expect(await waitFor('agent output in the service logs', async () => ((await rt.logs(info!.id, 50)) ?? '').includes('state=online') && 'seen')).toBe('seen');
    console.log(`swarm: create → token → start → task running: ${Math.round(provisionMs)} ms`);

    // remove, given the container id the listing handed out: service and secret go; again is a no-op.
    await rt.remove(info!.id, { force: true });
    expect(await serviceOf(s.name)).toBeNull();
    expect(await secretOf(secretName)).toBeNull();
    await rt.remove(info!.id, { force: true });
    await rt.remove(s.name, { force: true });
    expect(await rt.inspect(s.name)).toBeNull();
    expect(await rt.logs(s.name, 10)).toBeNull();
  });

  it('the next generation: the name is taken until the older service is removed, and its secret goes with it', async () => {
    const rt = runtime();
    const workspaceId = randomUUID();
    const first = await provision(rt, spec(workspaceId, 1), 'one');
    await expect(rt.create(spec(workspaceId, 2))).rejects.toBeInstanceOf(ContainerNameConflict);
    const t0 = performance.now();
    await rt.remove(first, { force: true });
    await provision(rt, spec(workspaceId, 2), 'two');
    const ms = performance.now() - t0;
    const secrets = (await rt.listVolumes([`${LABEL_WORKSPACE_ID}=${workspaceId}`])).map((v) => v.name);
    expect(secrets).toEqual([`ws-${workspaceId.slice(0, 12)}-token-2`]);
    expect((await rt.inspect(`ws-${workspaceId.slice(0, 12)}`))?.labels[LABEL_GENERATION]).toBe('2');
    console.log(`swarm: remove + create of the next generation → task running: ${Math.round(ms)} ms`);
    // A secret a service uses cannot be removed; a labeled leftover of an older generation and a
    // secret that only looks like ours (no labels) can be told apart.
    const name = `ws-${workspaceId.slice(0, 12)}`;
    await expect(rt.removeSecret(`${name}-token-2`)).rejects.toMatchObject({ statusCode: 400 });
    const data = Buffer.from('x').toString('base64');
    const labels = { [LABEL_MANAGED]: 'true', [LABEL_WORKSPACE_ID]: workspaceId, [LABEL_GENERATION]: '1', [LABEL_DEPLOYMENT]: DEPLOYMENT };
    await manager.createSecret({ _query: {}, _body: { Name: `${name}-token-1`, Labels: labels, Data: data } });
    await manager.createSecret({ _query: {}, _body: { Name: `${name}-token-99`, Data: data } });
    try {
      await rt.remove(name);
      expect(await secretOf(`${name}-token-2`)).toBeNull();
      // The config-volume name the lifecycle and sweeper compute stands for the workspace's labeled secrets.
      await rt.removeVolume(`${name}-configs`);
      expect(await secretOf(`${name}-token-1`)).toBeNull();
      expect(await secretOf(`${name}-token-99`)).not.toBeNull();
    } finally {
      await manager.getSecret(`${name}-token-99`).remove().catch(() => {});
    }
  });

  it('SWARM_PLACEMENT places the task; tier limits are capped at the largest node it allows', async () => {
    const onWorker = runtime(['node.role==worker']);
    const workspaceId = randomUUID();
    await provision(onWorker, spec(workspaceId, 1), 'w');
    const task = await currentTask(`ws-${workspaceId.slice(0, 12)}`);
    expect(task.NodeID).toBe(up!.workerNode);
    const service = await serviceOf(`ws-${workspaceId.slice(0, 12)}`);
    expect(service.Spec.TaskTemplate.Placement.Constraints).toEqual(['node.role==worker']);
    await onWorker.remove(`ws-${workspaceId.slice(0, 12)}`);

    const onManager = runtime([`node.id==${up!.managerNode}`]);
    const big = randomUUID();
    // Created, not started: a reservation of the whole node would wait for every other task to end.
    await onManager.create(spec(big, 1, { cpus: 512, memoryBytes: 2 ** 50 }));
    const node = (await manager.getNode(up!.managerNode).inspect()) as any;
    const limits = (await serviceOf(`ws-${big.slice(0, 12)}`)).Spec.TaskTemplate.Resources;
    expect(limits.Limits).toEqual({ NanoCPUs: node.Description.Resources.NanoCPUs, MemoryBytes: node.Description.Resources.MemoryBytes });
    expect(limits.Reservations).toEqual(limits.Limits);
    expect(await onManager.hostCpuCount()).toBe(node.Description.Resources.NanoCPUs / 1e9);
    await onManager.remove(`ws-${big.slice(0, 12)}`);
  });

  it('an unreachable registry cannot stall a start: the tag is pinned to the local image id', async () => {
    // A "registry" on loopback that accepts connections and never answers: a pull of a tag that
    // names it sits in `preparing` for 25 s before the daemon falls back to the local image.
    const held: net.Socket[] = [];
    const blackhole = net.createServer((sock) => held.push(sock));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    const repo = `127.0.0.1:${(blackhole.address() as AddressInfo).port}/workspace-agent`;
    const worker = nodeClient(up!.workerHost);
    try {
      for (const node of [manager, worker]) await node.getImage(IMAGE).tag({ repo, tag: 'latest' });
      const rt = runtime(['node.role==worker']);
      const workspaceId = randomUUID();
      const t0 = performance.now();
      await provision(rt, spec(workspaceId, 1, { image: `${repo}:latest` }), 't');
      expect((await rt.inspect(`ws-${workspaceId.slice(0, 12)}`))?.running).toBe(true);
      expect(performance.now() - t0).toBeLessThan(5_000);
      expect(held.length).toBe(0);
      expect((await rt.inspect(`ws-${workspaceId.slice(0, 12)}`))?.image).toBe(`${repo}:latest`);
      await rt.remove(`ws-${workspaceId.slice(0, 12)}`);
    } finally {
      for (const node of [manager, worker]) await node.getImage(`${repo}:latest`).remove().catch(() => {});
      for (const s of held) s.destroy();
      blackhole.close();
    }
  });

  it('an image no node has fails start at once as "image not found"; a task that exits is a die event', async () => {
    const rt = runtime(['node.role==worker']);
    const events: RuntimeEvent[] = [];
    const stream = await rt.events((e) => events.push(e), () => {});
    try {
      const missing = randomUUID();
      const { id } = await rt.create(spec(missing, 1, { image: `no-such-image-${runId}:1` }));
      await rt.writeFile(id, '/configs', '.auth_token', 'x', 0o600);
      const t0 = performance.now();
      const failure = await rt.start(id).then(() => null, (err: unknown) => err as { statusCode?: number; message: string });
      expect(failure?.statusCode).toBe(404);
      expect(failure?.message).toMatch(/no such image/i);
      expect(performance.now() - t0).toBeLessThan(3_000);

      const crashing = randomUUID();
      await provision(rt, spec(crashing, 4, { env: { ...spec(crashing, 4).env, AGENT_EXIT_IMMEDIATELY: '1' } }), 'c');
      const death = await waitFor('the die event of the exited task', async () => events.find((e) => e.labels[LABEL_WORKSPACE_ID] === crashing));
      expect(death).toMatchObject({ action: 'die', exitCode: 1, labels: { [LABEL_GENERATION]: '4' } });
      expect(await rt.inspect(`ws-${crashing.slice(0, 12)}`)).toMatchObject({ running: false, state: 'failed', exitCode: 1 });
      for (const w of [missing, crashing]) await rt.remove(`ws-${w.slice(0, 12)}`);
    } finally {
      stream.close();
    }
  });

  it('a daemon that answers but is not a manager counts as no runtime, with a warning naming Swarm', async () => {
    const plain = await startPrivateDockerd(IMAGE, undefined);
    try {
      for (const dockerHost of [plain.dockerHost, up!.workerHost]) {
        const warnings: string[] = [];
        const rt = createSwarmRuntime({ dockerHost, log: { warn: (_o, m) => warnings.push(String(m)), info() {} } });
        expect(await rt.ping()).toBe(false);
        expect(rt.available()).toBe(false);
        expect(warnings.some((w) => /Swarm/.test(w) && /not a Swarm manager/.test(w))).toBe(true);
        await expect(rt.create(spec(randomUUID(), 1))).rejects.toBeInstanceOf(RuntimeUnavailable);
        await expect(rt.list([`${LABEL_MANAGED}=true`])).rejects.toBeInstanceOf(RuntimeUnavailable);
        expect(rt.available()).toBe(false);
      }
    } finally {
      await plain.dispose();
    }
  });

  it('a task that waits for a node does not open the circuit, however short RUNTIME_TIMEOUT_MS', async () => {
    // No node carries this label: the task stays pending. start() must give up waiting well inside
    // RUNTIME_TIMEOUT_MS (the sweeps take it from there), or the circuit would call the manager hung.
    const config = loadConfig({
      CONTAINER_RUNTIME: 'swarm',
      DOCKER_HOST: up!.managerHost,
      RUNTIME_TIMEOUT_MS: '1000',
      SWARM_PLACEMENT: 'node.labels.molecule-test-nowhere==true',
    });
    const rt = createRuntime(config, testLog, { deploymentId: DEPLOYMENT });
    try {
      expect(await rt.ping()).toBe(true);
      const workspaceId = randomUUID();
      const s = spec(workspaceId, 1);
      const started = performance.now();
      await provision(rt, s, 'pending');
      expect(performance.now() - started).toBeLessThan(1_000 + 2_000); // three calls, each inside the circuit's deadline
      expect(rt.available()).toBe(true);
      expect(await rt.inspect(s.name)).toMatchObject({ running: false });
      const task = await currentTask(s.name);
      expect(task?.Status?.State).toBe('pending');
      await rt.remove(s.name);
      expect(await rt.inspect(s.name)).toBeNull();
    } finally {
      rt.dispose?.();
    }
  });

  it('the worker host dies: its task is reported dead once the manager marks the node down', async () => {
    const rt = runtime(['node.role==worker']);
    const workspaceId = randomUUID();
    const name = `ws-${workspaceId.slice(0, 12)}`;
    await provision(rt, spec(workspaceId, 1), 'k');
    const events: RuntimeEvent[] = [];
    const stream = await rt.events((e) => events.push(e), () => {});
    try {
      const killedAt = performance.now();
      killWorker(up!);
      const down = await waitFor('the task reported on a down node', async () => (await rt.fleetHealth()).find((t) => t.workspaceId === workspaceId && t.nodeState === 'down'), 40_000, 200);
      const detectMs = performance.now() - killedAt;
      expect(down).toMatchObject({ running: false, nodeId: up!.workerNode });
      // The manager itself still calls the task running; the runtime trusts the node.
      expect(down.state).toBe('running');
      expect(await rt.inspect(name)).toMatchObject({ running: false, state: 'node down' });
      expect((await rt.list([`${LABEL_WORKSPACE_ID}=${workspaceId}`]))[0]?.running).toBe(false);
      const death = await waitFor('the die event', async () => events.find((e) => e.labels[LABEL_WORKSPACE_ID] === workspaceId), 5_000);
      expect(death.action).toBe('die');
      console.log(`swarm: worker killed → node down in fleetHealth after ${Math.round(detectMs)} ms`);
      // Removing a service whose task is on a dead node is immediate.
      await rt.remove(name);
      expect(await rt.inspect(name)).toBeNull();
    } finally {
      stream.close();
      startWorker(up!);
    }
    const back = await waitFor('the worker Ready again', async () => ((await manager.getNode(up!.workerNode).inspect()) as any).Status.State === 'ready', 30_000, 200);
    expect(back).toBe(true);
  });
});
