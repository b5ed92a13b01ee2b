// The Docker ContainerRuntime against the real daemon. Skipped only outside CI when no daemon
// answers; in CI a missing daemon fails the suite.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dockerClient, parseDockerHost } from '../../services/runtime/docker-connection.js';
import { createDockerRuntime } from '../../services/runtime/docker.js';
import {
  ContainerNameConflict,
  LABEL_GENERATION,
  LABEL_MANAGED,
  LABEL_WORKSPACE_ID,
  RuntimeUnavailable,
  type ContainerRuntime,
  type ContainerSpec,
  type RuntimeEvent,
} from '../../services/runtime/types.js';

const IMAGE = 'workspace-agent:latest';
const DOCKER_HOST = process.env.DOCKER_HOST;
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Marks everything this run creates, so afterAll finds it even when a test failed half-way. */
const LABEL_TEST_RUN = 'molecule.test.run';

async function dockerAvailable(): Promise<boolean> {
  return createDockerRuntime({ dockerHost: DOCKER_HOST }).ping();
}

const docker = await dockerAvailable();

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!docker && !process.env.CI)('docker runtime (real daemon)', () => {
  const runId = randomUUID().replace(/-/g, '').slice(0, 12);
  const prefix = `ws-${runId}`;
  const workspaceId = randomUUID();
  const rt = createDockerRuntime({ dockerHost: DOCKER_HOST });
  const raw = dockerClient(parseDockerHost(DOCKER_HOST), 30_000);

  function spec(suffix: string, overrides: Partial<ContainerSpec> = {}): ContainerSpec {
    const name = `${prefix}-${suffix}`;
    return {
      name,
      image: IMAGE,
      // Port 1 on loopback: the agent keeps retrying its register and never leaves the machine.
      env: { WORKSPACE_ID: workspaceId, PLATFORM_URL: 'http://127.0.0.1:1', HEARTBEAT_INTERVAL_S: '30' },
      labels: {
        [LABEL_MANAGED]: 'true',
        [LABEL_WORKSPACE_ID]: workspaceId,
        [LABEL_GENERATION]: '1',
        [LABEL_TEST_RUN]: runId,
      },
      configVolume: `${name}-configs`,
      volumeLabels: { [LABEL_MANAGED]: 'true', [LABEL_WORKSPACE_ID]: workspaceId, [LABEL_TEST_RUN]: runId },
      memoryBytes: 64 * 1024 * 1024,
      cpus: 0.5,
      readOnlyRoot: false,
      // The daemon here runs with --bridge=none; "none" keeps test containers off every network.
      network: 'none',
      ...overrides,
    };
  }

  async function runToExit(s: ContainerSpec): Promise<{ id: string; output: string }> {
    const { id } = await rt.create(s);
    await rt.start(id);
    await waitFor('exit', async () => (await rt.inspect(id))?.running === false);
    return { id, output: (await rt.logs(id, 100)) ?? '' };
  }

  beforeAll(async () => {
    expect(docker, 'a Docker daemon must answer (required in CI)').toBe(true);
    if (!(await rt.imageExists(IMAGE))) {
      execFileSync('bash', [join(REPO_ROOT, 'agent/build-image.sh')], { stdio: 'inherit' });
    }
  }, 120_000);

  afterAll(async () => {
    if (!docker) return;
    const mine = await rt.list([`${LABEL_TEST_RUN}=${runId}`]);
    for (const c of mine) await rt.remove(c.id, { force: true });
    for (const v of await rt.listVolumes([`${LABEL_TEST_RUN}=${runId}`])) await rt.removeVolume(v.name);
  }, 60_000);

  it('probes the daemon on creation, so available() turns true without a call', async () => {
    const fresh = createDockerRuntime({ dockerHost: DOCKER_HOST });
    await waitFor('available', async () => fresh.available(), 5_000);
    expect(await fresh.ping()).toBe(true);
    expect(await fresh.inspect(`${prefix}-never`)).toBeNull();
  });

  it('creates a container with its labels, a labeled config volume and restart policy no', async () => {
    const { id } = await rt.create(spec('main'));
    const info = await rt.inspect(id);
    expect(info).toMatchObject({ id, name: `${prefix}-main`, image: IMAGE, running: false, startedAt: null });
    expect(info?.labels).toMatchObject({ [LABEL_WORKSPACE_ID]: workspaceId, [LABEL_GENERATION]: '1' });
    const volumes = await rt.listVolumes([`${LABEL_WORKSPACE_ID}=${workspaceId}`]);
    expect(volumes.find((v) => v.name === `${prefix}-main-configs`)?.labels).toMatchObject({
      [LABEL_MANAGED]: 'true',
      [LABEL_WORKSPACE_ID]: workspaceId,
    });
    const hostConfig = (await raw.getContainer(id).inspect()).HostConfig;
    expect(hostConfig.RestartPolicy?.Name).toBe('no');
    expect(hostConfig.Mounts).toEqual([
      expect.objectContaining({ Type: 'volume', Source: `${prefix}-main-configs`, Target: '/configs' }),
    ]);
    await expect(rt.create(spec('main'))).rejects.toBeInstanceOf(ContainerNameConflict);
  });

  // Both ways of writing: through the volume's host directory (taken when the tests run as root beside
  // the daemon, as in CI, where it must be taken) and as an archive upload through the Engine API. The
  // second write replaces the first and leaves no temporary file behind.
  it.each([
    ['through the host volume directory', true],
    ['as an archive upload', false],
  ])('writes a 0600 root-owned file into the volume of a created container before it starts, %s', async (_how, hostWrites) => {
    const writer = createDockerRuntime({ dockerHost: DOCKER_HOST, hostWrites });
    const probe = spec(`probe-${hostWrites}`, {
      entrypoint: ['/bin/sh', '-c', 'stat -c "%a %u %g %s" /configs/.auth_token; cat /configs/.auth_token; echo; ls -la /configs'],
    });
    const { id } = await rt.create(probe);
    const putArchive = vi.spyOn(Docker.Container.prototype, 'putArchive');
    await writer.writeFile(id, '/configs', '.auth_token', 'token-old', 0o600);
    await writer.writeFile(id, '/configs', '.auth_token', 'token-abc', 0o600);
    if (!hostWrites) expect(putArchive).toHaveBeenCalledTimes(2);
    else if (process.env.CI) expect(putArchive).not.toHaveBeenCalled();
    putArchive.mockRestore();
    await rt.start(id);
    await waitFor('exit', async () => (await rt.inspect(id))?.running === false);
    const output = await rt.logs(id, 100);
    expect(output).toMatch(/^600 0 0 9\ntoken-abc\n/);
    expect(output).toMatch(/-rw------- .* \.auth_token/);
    expect(output).not.toMatch(/\.tmp/);
  });

  it('does not write through the host into the volume of a container that is gone', async () => {
    const { id } = await rt.create(spec('gone'));
    await rt.remove(id, { force: true });
    await expect(rt.writeFile(id, '/configs', '.auth_token', 'stale', 0o600)).rejects.toThrow();
    const volume = (await raw.getVolume(`${prefix}-gone-configs`).inspect().catch(() => null)) as { Mountpoint?: string } | null;
    if (volume?.Mountpoint) expect(existsSync(join(volume.Mountpoint, '.auth_token'))).toBe(false);
  });

  it('starts a container and reports it running with its start time and a name without slash', async () => {
    const before = Date.now();
    await rt.start(`${prefix}-main`);
    await rt.start(`${prefix}-main`); // already running is fine
    const info = await rt.inspect(`${prefix}-main`);
    expect(info?.running).toBe(true);
    expect(info?.name).toBe(`${prefix}-main`);
    expect(info?.startedAt?.getTime()).toBeGreaterThanOrEqual(before - 2_000);
    expect(info?.startedAt?.getTime()).toBeLessThanOrEqual(Date.now() + 2_000);
    const output = await waitFor('agent output', async () => (await rt.logs(`${prefix}-main`, 10))?.includes('registering'));
    expect(output).toBe(true);
  });

  it('lists by label and by exact name prefix', async () => {
    for (const decoy of [`wsx-${runId}`, `ws_${runId}`, `x-ws-${runId}`]) {
      await rt.create({ ...spec('decoy'), name: decoy, configVolume: `${decoy}-configs` });
    }
    const byLabel = await rt.list([LABEL_MANAGED, `${LABEL_WORKSPACE_ID}=${workspaceId}`, `${LABEL_TEST_RUN}=${runId}`]);
    expect(byLabel.map((c) => c.name)).toEqual(expect.arrayContaining([`${prefix}-main`, `${prefix}-probe-true`, `${prefix}-probe-false`]));
    expect(byLabel.find((c) => c.name === `${prefix}-main`)?.running).toBe(true);
    expect(await rt.list([`${LABEL_WORKSPACE_ID}=${randomUUID()}`])).toEqual([]);

    const byPrefix = (await rt.listByNamePrefix(prefix)).map((c) => c.name).sort();
    expect(byPrefix).toEqual([`${prefix}-main`, `${prefix}-probe-false`, `${prefix}-probe-true`]);
    const allWs = (await rt.listByNamePrefix('ws-')).map((c) => c.name);
    expect(allWs).toEqual(expect.arrayContaining([`${prefix}-main`]));
    expect(allWs.filter((n) => n.includes(runId) && !n.startsWith('ws-'))).toEqual([]);
    expect(allWs.every((n) => n.startsWith('ws-'))).toBe(true);
  });

  it('stops idempotently, promptly (the agent traps TERM) and for missing containers', async () => {
    const started = Date.now();
    await rt.stop(`${prefix}-main`, 10);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((await rt.inspect(`${prefix}-main`))?.running).toBe(false);
    await rt.stop(`${prefix}-main`);
    await rt.stop(`${prefix}-does-not-exist`);
  });

  it('removes containers and volumes idempotently; a missing container inspects as null', async () => {
    await rt.remove(`${prefix}-main`, { force: true });
    await rt.remove(`${prefix}-main`, { force: true });
    await rt.remove(`${prefix}-main`);
    expect(await rt.inspect(`${prefix}-main`)).toBeNull();
    expect(await rt.logs(`${prefix}-main`, 10)).toBeNull();
    await rt.removeVolume(`${prefix}-main-configs`);
    await rt.removeVolume(`${prefix}-main-configs`);
    expect((await rt.listVolumes([`${LABEL_TEST_RUN}=${runId}`])).map((v) => v.name)).not.toContain(
      `${prefix}-main-configs`,
    );
  });

  it('knows which images exist', async () => {
    expect(await rt.imageExists(IMAGE)).toBe(true);
    expect(await rt.imageExists(`no-such-image-${runId}:never`)).toBe(false);
  });

  it('caps CPUs at the host count and applies the memory limit and the read-only root', async () => {
    const hostCpus = await rt.hostCpuCount();
    const { id, output } = await runToExit(
      spec('limits', {
        cpus: hostCpus + 2,
        memoryBytes: 96 * 1024 * 1024,
        readOnlyRoot: true,
        entrypoint: ['/bin/sh', '-c', 'touch /probe 2>/dev/null || echo root-ro; touch /tmp/x && echo tmp-rw'],
      }),
    );
    expect(output).toContain('root-ro');
    expect(output).toContain('tmp-rw');
    const hostConfig = (await raw.getContainer(id).inspect()).HostConfig;
    expect(hostConfig.NanoCpus).toBe(hostCpus * 1e9);
    expect(hostConfig.Memory).toBe(96 * 1024 * 1024);
    expect(hostConfig.ReadonlyRootfs).toBe(true);
    expect(Object.keys(hostConfig.Tmpfs ?? {})).toEqual(['/tmp']);
  });

  it('streams die events of managed containers, and does not call onError after close()', async () => {
    const events: RuntimeEvent[] = [];
    const onError = vi.fn();
    const handle = await rt.events((e) => events.push(e), onError);
    try {
      const { id } = await runToExit(spec('dies', { entrypoint: ['/bin/sh', '-c', 'exit 3'] }));
      const die = await waitFor('die event', async () => events.find((e) => e.containerId === id && e.action === 'die'));
      expect(die).toMatchObject({ name: `${prefix}-dies`, exitCode: 3 });
      expect(die.labels[LABEL_WORKSPACE_ID]).toBe(workspaceId);
      expect(events.find((e) => e.containerId === id && e.action === 'start')).toBeDefined();
    } finally {
      handle.close();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(onError).not.toHaveBeenCalled();
  });

  it('follows logs: the tail, then new lines of stdout and stderr with timestamps, ending when the container stops', async () => {
    const script = 'echo before-1; echo before-2; echo before-3; sleep 1; echo after-out; echo after-err >&2; sleep 1';
    const { id } = await rt.create(spec('follow', { entrypoint: ['/bin/sh', '-c', script] }));
    await rt.start(id);
    await waitFor('the first lines', async () => ((await rt.logs(id, 10)) ?? '').includes('before-3'));
    const lines: Array<{ stream: string; text: string; timestamp: Date | null }> = [];
    const onEnd = vi.fn();
    const follower = await rt.followLogs(id, 2, (l) => lines.push(l), onEnd);
    expect(follower).not.toBeNull();
    await waitFor('the end of the output', async () => onEnd.mock.calls.length > 0, 20_000);
    expect(onEnd).toHaveBeenCalledTimes(1);
    expect(onEnd.mock.calls[0]![0]).toBeUndefined(); // ended, not broken
    expect(lines.map((l) => [l.stream, l.text])).toEqual([
      ['stdout', 'before-2'],
      ['stdout', 'before-3'],
      ['stdout', 'after-out'],
      ['stderr', 'after-err'],
    ]);
    for (const l of lines) expect(Math.abs(l.timestamp!.getTime() - Date.now())).toBeLessThan(60_000);
    follower!.close();
  });

  it('follows the logs of a stopped container to their end at once, of a missing one not at all, and stays silent after close()', async () => {
    // A last line without a line break is output too (Docker 20.10 records it at exit, though a follow
    // that is open when the container stops ends before it, as `docker logs -f` does).
    const { id } = await runToExit(spec('stopped', { entrypoint: ['/bin/sh', '-c', 'echo only line; printf "no newline"'] }));
    const lines: string[] = [];
    const ended = vi.fn();
    await rt.followLogs(id, 10, (l) => lines.push(l.text), ended);
    await waitFor('the end', async () => ended.mock.calls.length > 0);
    expect(lines).toEqual(['only line', 'no newline']);
    expect(await rt.followLogs(`${prefix}-missing`, 10, () => {}, () => {})).toBeNull();

    const { id: chatty } = await rt.create(spec('chatty', { entrypoint: ['/bin/sh', '-c', 'while true; do echo tick; sleep 0.1; done'] }));
    await rt.start(chatty);
    const seen = vi.fn();
    const closedEnd = vi.fn();
    const follower = (await rt.followLogs(chatty, 0, seen, closedEnd))!;
    await waitFor('a tick', async () => seen.mock.calls.length > 0);
    follower.close();
    const after = seen.mock.calls.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(seen.mock.calls.length).toBe(after);
    expect(closedEnd).not.toHaveBeenCalled();
    await rt.remove(chatty, { force: true });
  });

  it('calls onError once when the daemon connection drops under an open event stream', async () => {
    // A socket proxy in front of the daemon lets the test cut the connection the way a daemon
    // restart would.
    const dir = mkdtempSync(join(tmpdir(), 'docker-proxy-'));
    const proxyPath = join(dir, 'docker.sock');
    const target = parseDockerHost(DOCKER_HOST);
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const upstream = 'socketPath' in target ? net.connect(target.socketPath) : net.connect(target.port, target.host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(proxyPath, resolve));
    try {
      const viaProxy = createDockerRuntime({ dockerHost: `unix://${proxyPath}` });
      const onError = vi.fn();
      await viaProxy.events(() => {}, onError);
      for (const s of sockets) s.destroy();
      await waitFor('onError', async () => onError.mock.calls.length > 0);
      await new Promise((r) => setTimeout(r, 200));
      expect(onError).toHaveBeenCalledTimes(1);
      expect(onError.mock.calls[0][0]).toBeInstanceOf(Error);
    } finally {
      await new Promise((r) => proxy.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docker runtime without a daemon', () => {
  it('throws RuntimeUnavailable and reports unavailable', async () => {
    const warn = vi.fn();
    const rt: ContainerRuntime = createDockerRuntime({
      dockerHost: 'unix:///tmp/nonexistent.sock',
      log: { warn, info: () => {} },
    });
    expect(rt.available()).toBe(false);
    expect(await rt.ping()).toBe(false);
    expect(rt.available()).toBe(false);
    await expect(rt.inspect('ws-anything')).rejects.toBeInstanceOf(RuntimeUnavailable);
    await expect(rt.list([LABEL_MANAGED])).rejects.toBeInstanceOf(RuntimeUnavailable);
    await expect(rt.stop('ws-anything')).rejects.toBeInstanceOf(RuntimeUnavailable);
    await expect(rt.events(() => {}, () => {})).rejects.toBeInstanceOf(RuntimeUnavailable);
    await expect(
      rt.create({
        name: 'ws-x',
        image: IMAGE,
        env: {},
        labels: {},
        configVolume: 'ws-x-configs',
        volumeLabels: {},
        memoryBytes: 0,
        cpus: 1,
        readOnlyRoot: false,
        network: 'none',
      }),
    ).rejects.toBeInstanceOf(RuntimeUnavailable);
    expect(rt.available()).toBe(false);
    // One warning for the transition, not one per failed call.
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
