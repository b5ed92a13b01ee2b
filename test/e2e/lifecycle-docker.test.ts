// The lifecycle on a real Docker daemon with the reference agent (DOCKER_NETWORK=host, so agents reach
// the loopback server): create, restart, concurrent restarts, pause and resume with children,
// hibernate and wake, delete, a pause in the middle of provisioning, and tier 4 on a 2-CPU host.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_DEPLOYMENT, LABEL_GENERATION, LABEL_MANAGED, LABEL_WORKSPACE_ID, configVolumeFor, containerNameFor } from '../../services/runtime/types.js';
import type { DockerProxy } from '../support/docker-proxy.js';
import { dockerAvailable, rawDocker, startProxiedDockerServer, type ProxiedDockerServer } from '../support/docker-e2e.js';
import { DELETE, HIBERNATE, PAUSE, RESTART, RESUME, eventsOf, eventually, heartbeatStatus, lastEventId, liveTokenCount, viewerKind } from '../support/lifecycle-fixtures.js';
import type { TestServer } from '../support/server.js';

const CREATE = `mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { __typename ... on CreateWorkspaceSuccess { workspace { id status } } } }`;

describe.skipIf(!dockerAvailable && !process.env.CI)('workspace lifecycle on Docker', { timeout: 60_000 }, () => {
  let docker: ProxiedDockerServer;
  let proxy: DockerProxy;
  let s: TestServer;
  let created: string[] = [];

  beforeAll(async () => {
    // Every daemon call goes through the proxy, so a test can hold one at an exact step.
    docker = await startProxiedDockerServer();
    ({ server: s, proxy, created } = docker);
  }, 120_000);

  afterAll(async () => {
    await docker?.close();
  });

  async function create(input: Record<string, unknown> = {}): Promise<string> {
    const r = await s.gql(CREATE, { input: { name: 'docker e2e', ...input } });
    const w = r.data.createWorkspace.workspace;
    expect(w.status).toBe('PROVISIONING');
    created.push(w.id);
    return w.id;
  }

  async function status(id: string): Promise<string> {
    return (await s.gql(`query($id: ID!) { workspace(id: $id) { status } }`, { id })).data.workspace.status;
  }

  /** Waits for a status; on timeout the error carries the workspace's events and containers. */
  async function reach(id: string, want: string, ms = 30_000): Promise<void> {
    try {
      await eventually(async () => ((await status(id)) === want ? true : undefined), ms, `${id} to be ${want}`);
    } catch (err) {
      const events = (await eventsOf(s, id)).map((e) => `${e.type}${e.status ? `(${e.status})` : ''} ${JSON.stringify(e.payload)}`);
      const containers = (await containersOf(id)).map((c) => `${c.Id.slice(0, 12)} gen=${c.Labels[LABEL_GENERATION]} ${c.State}`);
      throw new Error(`${String(err)}\nevents:\n  ${events.join('\n  ')}\ncontainers: ${containers.join(', ') || 'none'}`);
    }
  }

  async function containersOf(id: string) {
    return rawDocker.listContainers({ all: true, filters: { label: [`${LABEL_WORKSPACE_ID}=${id}`] } });
  }

  async function volumeExists(id: string): Promise<boolean> {
    return rawDocker
      .getVolume(configVolumeFor(id))
      .inspect()
      .then(() => true)
      .catch(() => false);
  }

  function tokenIn(id: string): string {
    return execFileSync('docker', ['exec', containerNameFor(id), 'cat', '/configs/.auth_token'], { encoding: 'utf8' }).trim();
  }

  it('creates a labeled container with the token file at 0600, and the agent brings it ONLINE', async () => {
    const id = await create();
    await reach(id, 'ONLINE');
    const [c] = await containersOf(id);
    expect(c!.Names).toEqual([`/ws-${id.slice(0, 12)}`]);
    // API.md container contract: exactly these labels, the deployment being platform { deploymentId };
    // the config volume has the same but the generation (a volume outlives generations).
    const deploymentId = (await s.gql('{ platform { deploymentId } }')).data.platform.deploymentId;
    const labels = { [LABEL_MANAGED]: 'true', [LABEL_DEPLOYMENT]: deploymentId, [LABEL_WORKSPACE_ID]: id };
    expect(c!.Labels).toEqual({ ...labels, [LABEL_GENERATION]: '1' });
    expect((await rawDocker.getVolume(configVolumeFor(id)).inspect()).Labels).toEqual(labels);
    const mode = execFileSync('docker', ['exec', containerNameFor(id), 'stat', '-c', '%a', '/configs/.auth_token'], { encoding: 'utf8' }).trim();
    expect(mode).toBe('600');
    const inspect = await rawDocker.getContainer(c!.Id).inspect();
    expect(inspect.HostConfig.RestartPolicy?.Name).toBe('no');
    expect(inspect.HostConfig.NetworkMode).toBe('host');
    const r = await s.gql(`query($id: ID!) { workspace(id: $id) { container { id name running startedAt } logs } }`, { id });
    expect(r.data.workspace.container).toMatchObject({ id: c!.Id, name: `ws-${id.slice(0, 12)}`, running: true });
    expect(r.data.workspace.logs).toContain('state=online');
  });

  it('restarts: PROVISIONING at once, the old token refused from then on, a new container of the next generation, ONLINE through the new agent', async () => {
    const id = await create();
    await reach(id, 'ONLINE');
    const oldToken = tokenIn(id);
    const [old] = await containersOf(id);
    expect(await heartbeatStatus(s, id, oldToken)).toBe(200);
    const r = await s.gql(RESTART, { id });
    expect(r.data.restartWorkspace).toMatchObject({ __typename: 'RestartWorkspaceSuccess', workspace: { status: 'PROVISIONING' } });
    expect(await heartbeatStatus(s, id, oldToken)).toBe(401);
    const fresh = await eventually(async () => {
      const cs = await containersOf(id);
      return cs.length === 1 && cs[0]!.Id !== old!.Id && cs[0]!.State === 'running' ? cs[0] : undefined;
    });
    expect(fresh.Labels[LABEL_GENERATION]).toBe('2');
    await reach(id, 'ONLINE');
    const newToken = tokenIn(id);
    expect(newToken).not.toBe(oldToken);
    expect(await viewerKind(s, newToken)).toBe('WORKSPACE');
    const logs = (await rawDocker.getContainer(fresh.Id).logs({ stdout: true, stderr: true })).toString();
    expect(logs).toContain('state=online');
  });

  it('leaves exactly one container, of the newest generation, after two concurrent restarts', async () => {
    const id = await create();
    await reach(id, 'ONLINE');
    const results = await Promise.all([s.gql(RESTART, { id }), s.gql(RESTART, { id })]);
    for (const r of results) expect(r.data.restartWorkspace.__typename).toBe('RestartWorkspaceSuccess');
    await reach(id, 'ONLINE');
    await s.services.lifecycle.idle();
    const cs = await containersOf(id);
    expect(cs.map((c) => c.Labels[LABEL_GENERATION])).toEqual(['3']);
    expect(await liveTokenCount(s, id)).toBe(1);
  });

  it('pauses a workspace and its child (containers gone, volumes kept), and resumes both to ONLINE', async () => {
    const parent = await create();
    const child = await create({ parentId: parent });
    await reach(parent, 'ONLINE');
    await reach(child, 'ONLINE');
    const r = await s.gql(PAUSE, { id: parent });
    expect(r.data.pauseWorkspace).toMatchObject({ pausedCount: 2, workspace: { status: 'PAUSED' } });
    for (const id of [parent, child]) {
      expect(await status(id)).toBe('PAUSED');
      expect(await containersOf(id)).toEqual([]);
      expect(await volumeExists(id)).toBe(true);
    }
    const resumed = await s.gql(RESUME, { id: parent });
    expect(resumed.data.resumeWorkspace).toMatchObject({ resumedCount: 2, workspace: { status: 'PROVISIONING' } });
    await reach(parent, 'ONLINE');
    await reach(child, 'ONLINE');
  });

  it('hibernates (HIBERNATING, then HIBERNATED, container gone) and wakes to ONLINE', async () => {
    const id = await create();
    await reach(id, 'ONLINE');
    const before = await lastEventId(s);
    const r = await s.gql(HIBERNATE, { id });
    expect(r.data.hibernateWorkspace.workspace.status).toBe('HIBERNATED');
    const statuses = (await eventsOf(s, id, before)).filter((e) => e.status).map((e) => e.status);
    expect(statuses).toEqual(['HIBERNATING', 'HIBERNATED']);
    expect(await containersOf(id)).toEqual([]);
    expect(await volumeExists(id)).toBe(true);
    const woken = await s.gql(RESTART, { id });
    expect(woken.data.restartWorkspace.workspace.status).toBe('PROVISIONING');
    await reach(id, 'ONLINE');
  });

  it('deletes: containers and volumes gone, tokens rejected', async () => {
    const id = await create();
    await reach(id, 'ONLINE');
    const token = tokenIn(id);
    const r = await s.gql(DELETE, { id });
    expect(r.data.deleteWorkspace.__typename).toBe('DeleteWorkspaceSuccess');
    expect(await viewerKind(s, token)).toBeNull();
    await eventually(async () => ((await containersOf(id)).length === 0 && !(await volumeExists(id)) ? true : undefined), 15_000, 'cleanup');
  });

  it('leaves no container running when a pause lands in the middle of provisioning', async () => {
    const started = proxy.holdNext((method, url) => method === 'POST' && /\/containers\/[0-9a-f]{64}\/start$/.test(url));
    const id = await create();
    const held = await started;
    expect((await containersOf(id)).map((c) => c.State)).toEqual(['created']);
    const r = await s.gql(PAUSE, { id });
    expect(r.data.pauseWorkspace.workspace.status).toBe('PAUSED');
    held.release();
    await s.services.lifecycle.idle();
    expect(await containersOf(id)).toEqual([]);
    expect(await status(id)).toBe('PAUSED');
  });

  it('starts a tier 4 workspace on this host, its 4 CPUs capped at the host count', async () => {
    const id = await create({ tier: 4 });
    await reach(id, 'ONLINE');
    const [c] = await containersOf(id);
    const inspect = await rawDocker.getContainer(c!.Id).inspect();
    const hostCpus = ((await rawDocker.info()) as { NCPU: number }).NCPU;
    expect(inspect.HostConfig.NanoCpus).toBe(Math.min(4, hostCpus) * 1e9);
    expect(inspect.HostConfig.Memory).toBe(4 * 1024 * 1024 * 1024);
  });
});
