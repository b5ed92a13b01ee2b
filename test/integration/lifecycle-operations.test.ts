// Pause, resume, hibernate, delete and auto-restart against the in-memory runtime: which containers go
// and which volumes stay, the order of the status events, and the crash-loop counter.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFakeRuntime, type FakeRuntime } from '../../services/runtime/fake.js';
import { LABEL_GENERATION, LABEL_WORKSPACE_ID, configVolumeFor, containerNameFor } from '../../services/runtime/types.js';
import {
  DELETE,
  HIBERNATE,
  PAUSE,
  RESUME,
  createWorkspace,
  eventsOf,
  forceStatus,
  lastEventId,
  liveTokenCount,
  row,
  viewerKind,
} from '../support/lifecycle-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('lifecycle operations on the fake runtime', () => {
  let s: TestServer;
  let fake: FakeRuntime;
  beforeAll(async () => {
    fake = createFakeRuntime();
    s = await startTestServer({}, { runtime: fake });
  });
  afterAll(async () => {
    await s?.stop();
  });
  beforeEach(() => fake.setAvailable(true));

  const settle = () => s.services.lifecycle.idle();
  const containersOf = (id: string) => [...fake.containers.values()].filter((c) => c.spec.labels[LABEL_WORKSPACE_ID] === id);
  const online = async (opts: Parameters<typeof createWorkspace>[1] = {}) => {
    const w = await createWorkspace(s, opts);
    await settle();
    await forceStatus(s, w.id, 'ONLINE');
    return w;
  };

  it('pauses a subtree: every workspace PAUSED, containers removed, volumes kept', async () => {
    const root = await online();
    const child = await online({ parentId: root.id });
    const external = await createWorkspace(s, { runtime: 'external', parentId: child.id });
    const r = await s.gql(PAUSE, { id: root.id });
    expect(r.data.pauseWorkspace).toMatchObject({ __typename: 'PauseWorkspaceSuccess', pausedCount: 3, workspace: { status: 'PAUSED' } });
    for (const w of [root, child, external]) expect((await row(s, w.id)).status).toBe('PAUSED');
    expect(containersOf(root.id)).toEqual([]);
    expect(containersOf(child.id)).toEqual([]);
    expect(fake.volumes.has(configVolumeFor(root.id))).toBe(true);
    expect(fake.volumes.has(configVolumeFor(child.id))).toBe(true);
    const stops = fake.calls.filter((k) => k.method === 'stop').map((k) => k.args[1]);
    expect(stops.at(-1)).toBe(3);
  });

  it('resumes a paused subtree: container workspaces re-provisioned at a new generation, the external one awaiting its agent', async () => {
    const root = await online();
    const child = await online({ parentId: root.id });
    const external = await createWorkspace(s, { runtime: 'external', parentId: root.id });
    await s.gql(PAUSE, { id: root.id });
    const r = await s.gql(RESUME, { id: root.id });
    expect(r.data.resumeWorkspace).toMatchObject({ resumedCount: 3, workspace: { status: 'PROVISIONING' } });
    expect((await row(s, child.id)).status).toBe('PROVISIONING');
    expect((await row(s, external.id)).status).toBe('AWAITING_AGENT');
    expect(await viewerKind(s, external.token!)).toBe('WORKSPACE');
    await settle();
    for (const w of [root, child]) {
      expect(containersOf(w.id).map((c) => [c.running, c.spec.labels[LABEL_GENERATION]])).toEqual([[true, '2']]);
      expect(await liveTokenCount(s, w.id)).toBe(1);
    }
  });

  it('leaves no container when a pause lands during provisioning', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let reached!: () => void;
    const atWrite = new Promise<void>((r) => (reached = r));
    const writeFile = fake.writeFile.bind(fake);
    fake.writeFile = async (...args) => {
      reached();
      await held;
      return writeFile(...args);
    };
    try {
      const { id } = await createWorkspace(s);
      await atWrite;
      expect(containersOf(id)).toHaveLength(1);
      const r = await s.gql(PAUSE, { id });
      expect(r.data.pauseWorkspace.__typename).toBe('PauseWorkspaceSuccess');
      release();
      await settle();
      expect(containersOf(id)).toEqual([]);
      expect((await row(s, id)).status).toBe('PAUSED');
      expect(await liveTokenCount(s, id)).toBe(0);
    } finally {
      fake.writeFile = writeFile;
    }
  });

  it('hibernates: HIBERNATING, container removed, HIBERNATED; a resume wakes it', async () => {
    const { id } = await online();
    const before = await lastEventId(s);
    const r = await s.gql(HIBERNATE, { id });
    expect(r.data.hibernateWorkspace).toMatchObject({ __typename: 'HibernateWorkspaceSuccess', workspace: { status: 'HIBERNATED' } });
    const statuses = (await eventsOf(s, id, before)).map((e) => `${e.previous_status}->${e.status}`);
    expect(statuses).toEqual(['ONLINE->HIBERNATING', 'HIBERNATING->HIBERNATED']);
    expect(containersOf(id)).toEqual([]);
    expect(fake.volumes.has(configVolumeFor(id))).toBe(true);
    const woken = await s.gql(RESUME, { id });
    expect(woken.data.resumeWorkspace).toMatchObject({ resumedCount: 1, workspace: { status: 'PROVISIONING' } });
    await settle();
    expect(containersOf(id)).toHaveLength(1);
  });

  it('hibernates a busy workspace only when forced', async () => {
    const { id } = await online();
    await forceStatus(s, id, 'DEGRADED', { activeTasks: 4 });
    expect((await s.gql(HIBERNATE, { id })).data.hibernateWorkspace).toMatchObject({ __typename: 'ActiveTasksError', activeTasks: 4 });
    expect(containersOf(id)).toHaveLength(1);
    const forced = await s.gql(HIBERNATE, { id, force: true });
    expect(forced.data.hibernateWorkspace.workspace.status).toBe('HIBERNATED');
  });

  it('hibernates for the idle loop through the service, recording the source', async () => {
    const { id } = await online();
    const before = await lastEventId(s);
    const w = await s.services.lifecycle.hibernate(id, { source: 'idle' });
    expect(w.status).toBe('HIBERNATED');
    expect((await eventsOf(s, id, before))[0]!.payload).toMatchObject({ source: 'idle' });
  });

  it('deletes: containers, then volumes, removed off the request; tokens rejected at once', async () => {
    const { id } = await online();
    const token = fake.readFile(containerNameFor(id), '/configs/.auth_token')!.content;
    const r = await s.gql(DELETE, { id });
    expect(r.data.deleteWorkspace.__typename).toBe('DeleteWorkspaceSuccess');
    expect(await viewerKind(s, token)).toBeNull();
    await settle();
    expect(containersOf(id)).toEqual([]);
    expect(fake.volumes.has(configVolumeFor(id))).toBe(false);
  });

  it('keeps the volume of a deleted workspace whose container would not go', async () => {
    const { id } = await online();
    const c = containersOf(id)[0]!;
    fake.failNext('remove', Object.assign(new Error('(HTTP code 500) driver failed'), { statusCode: 500 }));
    await s.gql(DELETE, { id });
    await settle();
    expect(fake.find(c.id)).toBeDefined();
    expect(fake.volumes.has(configVolumeFor(id))).toBe(true);
  });

  it('auto-restarts an OFFLINE workspace five times in ten minutes, and fails the sixth with no container left', async () => {
    const { id } = await online();
    for (let i = 1; i <= 5; i++) {
      await forceStatus(s, id, 'OFFLINE');
      expect(await s.services.lifecycle.autoRestart(id)).toBe('restarted');
      expect(await row(s, id)).toMatchObject({ status: 'PROVISIONING', restart_count: i });
      await settle();
    }
    await forceStatus(s, id, 'OFFLINE');
    expect(await s.services.lifecycle.autoRestart(id)).toBe('failed');
    const r = await row(s, id);
    expect(r.status).toBe('FAILED');
    expect(r.last_sample_error).toMatch(/crash loop/);
    expect(containersOf(id)).toEqual([]);
    expect(fake.volumes.has(configVolumeFor(id))).toBe(true);
  });

  it('starts a new crash-loop window once ten minutes have passed', async () => {
    const { id } = await online();
    await s.db.prisma.$executeRaw`UPDATE workspaces SET status = 'OFFLINE', restart_count = 5,
      restart_window_started_at = now() - interval '11 minutes' WHERE id = ${id}::uuid`;
    expect(await s.services.lifecycle.autoRestart(id)).toBe('restarted');
    expect((await row(s, id)).restart_count).toBe(1);
    await settle();
  });

  it('skips auto-restart under a paused ancestor, for external workspaces and for any status but OFFLINE', async () => {
    const parent = await createWorkspace(s, { runtime: 'external' });
    const child = await online({ parentId: parent.id });
    await forceStatus(s, parent.id, 'PAUSED');
    await forceStatus(s, child.id, 'OFFLINE');
    expect(await s.services.lifecycle.autoRestart(child.id)).toBe('skipped');
    const external = await createWorkspace(s, { runtime: 'external' });
    await forceStatus(s, external.id, 'OFFLINE');
    expect(await s.services.lifecycle.autoRestart(external.id)).toBe('skipped');
    const { id } = await online();
    expect(await s.services.lifecycle.autoRestart(id)).toBe('skipped');
    expect((await row(s, child.id)).status).toBe('OFFLINE');
  });

  it('resets the crash-loop count on an operator restart', async () => {
    const { id } = await online();
    await s.db.prisma.$executeRaw`UPDATE workspaces SET restart_count = 5, restart_window_started_at = now() WHERE id = ${id}::uuid`;
    await s.services.lifecycle.restart(id);
    expect((await row(s, id)).restart_count).toBe(0);
    await settle();
  });
});
