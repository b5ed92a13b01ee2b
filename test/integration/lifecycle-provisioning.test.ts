// Provisioning against the in-memory runtime: the container contract (name, labels, environment, tier
// limits, token file), the generation guard (a restart supersedes a running provisioning, exactly one
// container of the newest generation survives), and failures that become FAILED with a generic reason.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFakeRuntime, type FakeRuntime } from '../../services/runtime/fake.js';
import { ContainerNameConflict, LABEL_DEPLOYMENT, LABEL_GENERATION, LABEL_MANAGED, LABEL_WORKSPACE_ID, configVolumeFor, containerNameFor } from '../../services/runtime/types.js';
import { RESTART, createWorkspace, eventsOf, lastEventId, liveTokenCount, row, viewerKind } from '../support/lifecycle-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { dbMode } from '../support/database.js';
import { listenerApplicationName } from '../../services/events/listener.js';
import pg from 'pg';

const GIB = 1024 * 1024 * 1024;

describe('provisioning on the fake runtime', () => {
  let s: TestServer;
  let fake: FakeRuntime;
  beforeAll(async () => {
    fake = createFakeRuntime({ cpuCount: 2 });
    s = await startTestServer({ HEARTBEAT_INTERVAL_S: '7' }, { runtime: fake });
  });
  afterAll(async () => {
    await s?.stop();
  });
  beforeEach(() => fake.setAvailable(true));

  const settle = () => s.services.lifecycle.idle();
  const containersOf = (id: string) => [...fake.containers.values()].filter((c) => c.spec.labels[LABEL_WORKSPACE_ID] === id);
  const tokenFile = (id: string) => fake.readFile(containerNameFor(id), '/configs/.auth_token');

  it('creates and starts the container of API.md\'s contract, with the token file in place before the start', async () => {
    const { id } = await createWorkspace(s, { tier: 3, secrets: [{ key: 'OPENAI_API_KEY', value: 'sk-test' }] });
    await settle();
    const [c] = containersOf(id);
    expect(c).toBeDefined();
    expect(c!.name).toBe(`ws-${id.slice(0, 12)}`);
    expect(c!.running).toBe(true);
    const deployment = (await s.gql('{ platform { deploymentId } }')).data.platform.deploymentId;
    expect(deployment).toBe(s.services.deps.deploymentId);
    expect(c!.spec.labels).toEqual({ [LABEL_MANAGED]: 'true', [LABEL_DEPLOYMENT]: deployment, [LABEL_WORKSPACE_ID]: id, [LABEL_GENERATION]: '1' });
    expect(fake.volumes.get(configVolumeFor(id))?.labels).toEqual({ [LABEL_MANAGED]: 'true', [LABEL_DEPLOYMENT]: deployment, [LABEL_WORKSPACE_ID]: id });
    expect(c!.spec.env).toEqual({
      OPENAI_API_KEY: 'sk-test',
      WORKSPACE_ID: id,
      PLATFORM_URL: s.url,
      WORKSPACE_CONFIG_PATH: '/configs',
      TIER: '3',
      HEARTBEAT_INTERVAL_S: '7',
    });
    expect(c!.spec).toMatchObject({ memoryBytes: 2 * GIB, cpus: 2, readOnlyRoot: false, network: 'host', image: 'workspace-agent:latest' });
    const file = tokenFile(id)!;
    expect(file.mode).toBe(0o600);
    expect(await viewerKind(s, file.content)).toBe('WORKSPACE');
    const order = fake.calls.filter((k) => (k.method === 'writeFile' || k.method === 'start') && k.args[0] === c!.id).map((k) => k.method);
    expect(order).toEqual(['writeFile', 'start']);
    expect((await row(s, id)).status).toBe('PROVISIONING');
  });

  it('gives tier 1 a read-only root and 512 MiB, and asks 4 CPUs for tier 4 (the runtime caps them)', async () => {
    const t1 = await createWorkspace(s, { tier: 1 });
    const t4 = await createWorkspace(s, { tier: 4 });
    await settle();
    expect(containersOf(t1.id)[0]!.spec).toMatchObject({ memoryBytes: GIB / 2, readOnlyRoot: true });
    expect(containersOf(t4.id)[0]!.spec).toMatchObject({ memoryBytes: 4 * GIB, cpus: 4 });
    expect(containersOf(t4.id)[0]!.effectiveCpus).toBe(2);
  });

  it('restarts at once: PROVISIONING, old token refused, then one container of the next generation', async () => {
    const { id } = await createWorkspace(s);
    await settle();
    const oldToken = tokenFile(id)!.content;
    const oldContainer = containersOf(id)[0]!.id;
    const before = await lastEventId(s);
    const r = await s.gql(RESTART, { id });
    expect(r.data.restartWorkspace).toMatchObject({ __typename: 'RestartWorkspaceSuccess', workspace: { status: 'PROVISIONING' } });
    expect(await viewerKind(s, oldToken)).toBeNull();
    // The restart's own transaction; the provisioner's TOKEN_ISSUED may already follow.
    const types = (await eventsOf(s, id, before)).map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(['WORKSPACE_RESTART_REQUESTED', 'TOKEN_REVOKED']);
    await settle();
    const now = containersOf(id);
    expect(now).toHaveLength(1);
    expect(now[0]!.id).not.toBe(oldContainer);
    expect(now[0]!.spec.labels[LABEL_GENERATION]).toBe('2');
    expect(await viewerKind(s, tokenFile(id)!.content)).toBe('WORKSPACE');
    expect(await liveTokenCount(s, id)).toBe(1);
  });

  it('writes a status event when a restart leaves another status, and WORKSPACE_RESTART_REQUESTED either way', async () => {
    const { id } = await createWorkspace(s);
    await settle();
    await s.db.prisma.$executeRaw`UPDATE workspaces SET status = 'ONLINE' WHERE id = ${id}::uuid`;
    const before = await lastEventId(s);
    await s.gql(RESTART, { id });
    const events = await eventsOf(s, id, before);
    expect(events.map((e) => e.type).slice(0, 3)).toEqual(['WORKSPACE_RESTART_REQUESTED', 'WORKSPACE_PROVISIONING', 'TOKEN_REVOKED']);
    expect(events[1]).toMatchObject({ status: 'PROVISIONING', previous_status: 'ONLINE' });
    await settle();
  });

  it('leaves exactly one container, of the newest generation, after concurrent restarts', async () => {
    const { id } = await createWorkspace(s);
    await settle();
    const results = await Promise.all([1, 2, 3].map(() => s.gql(RESTART, { id })));
    for (const r of results) expect(r.data.restartWorkspace.__typename).toBe('RestartWorkspaceSuccess');
    await settle();
    const { generation } = await row(s, id);
    expect(generation).toBe(4);
    const now = containersOf(id);
    expect(now.map((c) => c.spec.labels[LABEL_GENERATION])).toEqual(['4']);
    expect(now[0]!.running).toBe(true);
    expect(await liveTokenCount(s, id)).toBe(1);
    expect(await viewerKind(s, tokenFile(id)!.content)).toBe('WORKSPACE');
  });

  it('undoes a superseded provisioning: its container removed by id, its token revoked', async () => {
    const { id } = await createWorkspace(s);
    await settle();
    // Hold generation 2 between its token file and its start, then restart again.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let reached!: () => void;
    const atStart = new Promise<void>((r) => (reached = r));
    const start = fake.start.bind(fake);
    fake.start = async (idOrName) => {
      if (fake.find(idOrName)?.spec.labels[LABEL_GENERATION] === '2') {
        reached();
        await held;
      }
      return start(idOrName);
    };
    try {
      await s.gql(RESTART, { id });
      await atStart;
      const gen2 = containersOf(id)[0]!.id;
      await s.gql(RESTART, { id });
      release();
      await settle();
      expect(fake.find(gen2)).toBeUndefined();
      expect(containersOf(id).map((c) => c.spec.labels[LABEL_GENERATION])).toEqual(['3']);
      expect(await liveTokenCount(s, id)).toBe(1);
    } finally {
      fake.start = start;
    }
  });

  it('keeps a container whose agent registered before the provisioner confirmed the start', async () => {
    const start = fake.start.bind(fake);
    // The agent answers within milliseconds of its start: ONLINE lands before start() returns here.
    fake.start = async (idOrName) => {
      await start(idOrName);
      const wid = fake.find(idOrName)!.spec.labels[LABEL_WORKSPACE_ID]!;
      await s.db.prisma.$executeRaw`UPDATE workspaces SET status = 'ONLINE' WHERE id = ${wid}::uuid AND status = 'PROVISIONING'`;
    };
    try {
      const { id } = await createWorkspace(s);
      await settle();
      expect((await row(s, id)).status).toBe('ONLINE');
      expect(containersOf(id).map((c) => c.running)).toEqual([true]);
      expect(await liveTokenCount(s, id)).toBe(1);
    } finally {
      fake.start = start;
    }
  });

  it('waits for a name still held by a removal in progress elsewhere, instead of failing', async () => {
    const { id } = await createWorkspace(s);
    await settle();
    // Docker answers 409 to create until another remover's removal of the old container has ended.
    for (let i = 0; i < 3; i++) fake.failNext('create', new ContainerNameConflict(containerNameFor(id)));
    await s.gql(RESTART, { id });
    await settle();
    expect((await row(s, id)).status).toBe('PROVISIONING');
    expect(containersOf(id).map((c) => [c.running, c.spec.labels[LABEL_GENERATION]])).toEqual([[true, '2']]);
  });

  it('wipes and recreates the config volume on restart with resetConfig', async () => {
    const { id } = await createWorkspace(s);
    await settle();
    const volume = fake.volumes.get(configVolumeFor(id))!;
    volume.files.set('/configs/config.yaml', { content: 'edited: true', mode: 0o644 });
    await s.gql(RESTART, { id, input: { resetConfig: true } });
    await settle();
    const fresh = fake.volumes.get(configVolumeFor(id))!;
    expect(fresh.files.has('/configs/config.yaml')).toBe(false);
    expect(fresh.files.has('/configs/.auth_token')).toBe(true);
    const requested = (await eventsOf(s, id)).find((e) => e.type === 'WORKSPACE_RESTART_REQUESTED');
    expect(requested?.payload).toMatchObject({ resetConfig: true, generation: 2 });
  });

  it('keeps the config volume across a plain restart', async () => {
    const { id } = await createWorkspace(s);
    await settle();
    fake.volumes.get(configVolumeFor(id))!.files.set('/configs/config.yaml', { content: 'edited: true', mode: 0o644 });
    await s.gql(RESTART, { id });
    await settle();
    expect(fake.volumes.get(configVolumeFor(id))!.files.get('/configs/config.yaml')?.content).toBe('edited: true');
  });

  it('sets FAILED with a generic reason when the image is missing, and keeps no container', async () => {
    const { id } = await createWorkspace(s, { image: 'no-such-image:1' });
    fake.failNext('create', Object.assign(new Error('(HTTP code 404) No such image: no-such-image:1 /var/lib/secret'), { statusCode: 404 }));
    await settle();
    const r = await row(s, id);
    expect(r.status).toBe('FAILED');
    expect(r.last_sample_error).toBe('workspace image not found');
    expect(containersOf(id)).toEqual([]);
    expect(await liveTokenCount(s, id)).toBe(0);
  });

  it('sets FAILED saying no runtime is reachable when the daemon is down, and provisions again once it is back', async () => {
    fake.setAvailable(false);
    const { id } = await createWorkspace(s);
    await settle();
    expect(await row(s, id)).toMatchObject({ status: 'FAILED', last_sample_error: 'no container runtime is reachable' });
    const refused = await s.gql(RESTART, { id });
    expect(refused.data.restartWorkspace.__typename).toBe('RuntimeUnavailableError');
    fake.setAvailable(true);
    const r = await s.gql(RESTART, { id });
    expect(r.data.restartWorkspace.__typename).toBe('RestartWorkspaceSuccess');
    await settle();
    expect(containersOf(id)).toHaveLength(1);
    expect((await row(s, id)).last_sample_error).toBeNull();
  });

  it('force-removes an older generation\'s leftover container before creating its own', async () => {
    const { id } = await createWorkspace(s);
    await settle();
    const leftover = containersOf(id)[0]!.id;
    await s.db.prisma.$executeRaw`UPDATE workspaces SET status = 'FAILED' WHERE id = ${id}::uuid`;
    await s.gql(RESTART, { id });
    await settle();
    expect(fake.find(leftover)).toBeUndefined();
    const removal = fake.calls.find((k) => k.method === 'remove' && k.args[0] === leftover);
    expect(removal?.args[1]).toEqual({ force: true });
  });

  it('resumes interrupted provisioning at start-up, taking over a stale claim', async () => {
    const { id } = await createWorkspace(s);
    await settle();
    // As a crashed instance leaves it: PROVISIONING at a new generation, claimed long ago, no container.
    await s.db.prisma.$executeRaw`UPDATE workspaces SET generation = generation + 1, provision_claimed_by = 'dead-instance',
      provision_claimed_at = now() - interval '1 hour', provision_started_at = NULL WHERE id = ${id}::uuid`;
    await s.services.lifecycle.resumePending();
    await settle();
    expect(containersOf(id).map((c) => c.spec.labels[LABEL_GENERATION])).toEqual(['2']);
    expect((await row(s, id)).provision_claimed_by).toBe(s.services.deps.instanceId);
  });

  it('leaves a fresh claim of another live instance alone, and takes it over once that instance has no session', async () => {
    const { id } = await createWorkspace(s);
    await settle();
    const claimFresh = () => s.db.prisma.$executeRaw`UPDATE workspaces SET generation = 2, provision_claimed_by = 'other-instance',
      provision_claimed_at = now(), provision_started_at = NULL WHERE id = ${id}::uuid`;
    await claimFresh();
    if (dbMode() === 'server') {
      // The other instance is alive: its event-listener session is connected, and it just renewed.
      const session = new pg.Client({ connectionString: s.database.url, application_name: listenerApplicationName('other-instance') });
      await session.connect();
      await s.services.lifecycle.resumePending();
      await settle();
      expect(containersOf(id).map((c) => c.spec.labels[LABEL_GENERATION])).toEqual(['1']);
      expect((await row(s, id)).provision_claimed_by).toBe('other-instance');
      await session.end();
      await claimFresh();
    }
    // No session (on embedded PGlite no other instance can exist): the claim is stale at once.
    await s.services.lifecycle.resumePending();
    await settle();
    expect(containersOf(id).map((c) => c.spec.labels[LABEL_GENERATION])).toEqual(['2']);
    expect((await row(s, id)).provision_claimed_by).toBe(s.services.deps.instanceId);
  });

  it('reads the containers of a page of workspaces with one runtime call', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createWorkspace(s, { name: `batch ${i}` })).id);
    await settle();
    const from = fake.calls.length;
    const r = await s.gql(`{ workspaces(first: 100) { edges { node { id container { id name running } } } } }`);
    expect(r.errors).toBeUndefined();
    const calls = fake.calls.slice(from).map((k) => k.method);
    expect(calls).toEqual(['list']);
    const nodes = r.data.workspaces.edges.map((e: any) => e.node).filter((n: any) => ids.includes(n.id));
    expect(nodes).toHaveLength(5);
    for (const n of nodes) expect(n.container).toMatchObject({ name: `ws-${n.id.slice(0, 12)}`, running: true });
  });

  it('shows one workspace\'s container with its start time and its logs to the admin', async () => {
    const { id } = await createWorkspace(s);
    await settle();
    fake.appendLog(containerNameFor(id), 'line 1\nline 2\nline 3\n');
    const r = await s.gql(`query($id: ID!) { workspace(id: $id) { container { name running startedAt } logs(tail: 2) } }`, { id });
    expect(r.data.workspace.container).toMatchObject({ name: `ws-${id.slice(0, 12)}`, running: true });
    expect(r.data.workspace.container.startedAt).toEqual(expect.any(String));
    expect(r.data.workspace.logs).toBe('line 2\nline 3\n');
  });
});
