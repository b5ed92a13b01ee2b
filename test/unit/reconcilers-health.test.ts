// The health loop against the in-memory runtime and a real (embedded) database: deaths from events
// (generation-guarded) and from the periodic sweep (an inspect error is never a death), restarts of
// OFFLINE workspaces, and the event stream's reconnect followed by a full reconcile.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHealthLoop, type HealthLoop } from '../../services/reconcilers/health-sweep.js';
import { PartsFailed, TickSkipped } from '../../services/reconcilers/loop.js';
import { createFakeRuntime, type FakeRuntime } from '../../services/runtime/fake.js';
import { createNoneRuntime } from '../../services/runtime/none.js';
import { LABEL_GENERATION, LABEL_MANAGED, LABEL_WORKSPACE_ID } from '../../services/runtime/types.js';
import { eventually } from '../support/lifecycle-fixtures.js';
import { addManagedContainer, eventsFor, insertWorkspace, openTestDb, prefixOf, statusOf, testLog, type ReconcilerTestDb } from '../support/reconcilers.js';

const ctx = () => ({ signal: new AbortController().signal, leaderSince: new Date(0) });

const addContainer = (fake: FakeRuntime, workspaceId: string, generation: number, running = true) =>
  addManagedContainer(fake, workspaceId, generation, { running });

describe('health loop', () => {
  let t: ReconcilerTestDb;
  let fake: FakeRuntime;
  let restarted: string[];
  let health: HealthLoop;
  let reprovisioned: string[] = [];
  const lifecycle = {
    autoRestart: async (id: string) => {
      restarted.push(id);
      return 'restarted' as const;
    },
    reprovisionAfterRuntimeOutage: async (id: string) => {
      reprovisioned.push(id);
      return true;
    },
  };

  beforeAll(async () => {
    t = await openTestDb();
  });
  afterAll(async () => {
    await t?.stop();
  });
  beforeEach(async () => {
    await t.db.prisma.$executeRaw`/* testReset */ TRUNCATE workspaces, workspace_auth_tokens, workspace_events CASCADE`;
    fake = createFakeRuntime();
    restarted = [];
    reprovisioned = [];
    health?.onLeadershipLost?.();
    health = createHealthLoop({ db: t.db, runtime: fake, lifecycle, log: testLog, intervalMs: 60_000, reconnectBaseMs: 10, reconnectMaxMs: 40, restartSettleMs: 30 });
  });

  it('marks OFFLINE on a die event of the current generation and asks for an automatic restart', async () => {
    const ws = await insertWorkspace(t.db, { status: 'ONLINE', generation: 3 });
    const c = await addContainer(fake, ws, 3);
    await health.tick(ctx());
    fake.exit(c, 137);
    await eventually(async () => (restarted.length ? true : undefined), 5_000, 'auto restart');
    await health.drained();
    expect(await statusOf(t.db, ws)).toBe('OFFLINE');
    expect(restarted).toEqual([ws]);
    const [event] = await eventsFor(t.db, ws);
    expect(event).toMatchObject({ type: 'WORKSPACE_OFFLINE', previous_status: 'ONLINE' });
    expect(event!.payload).toMatchObject({ source: 'container-event', action: 'die', exitCode: 137 });
  });

  it('leaves the restart to the reconcile after the reconnect when the stream broke right after a death', async () => {
    const ws = await insertWorkspace(t.db, { status: 'ONLINE', generation: 2 });
    const c = await addContainer(fake, ws, 2);
    await health.tick(ctx());
    restarted.length = 0;
    // A daemon shutting down: its containers die, then its API and event stream go.
    fake.exit(c, 143);
    await health.drained();
    fake.setAvailable(false);
    await new Promise((r) => setTimeout(r, 80));
    expect(await statusOf(t.db, ws)).toBe('OFFLINE');
    expect(restarted).toEqual([]);
    fake.setAvailable(true);
    await eventually(async () => (restarted.length ? true : undefined), 5_000, 'restart after the reconnect');
    expect(restarted).toEqual([ws]);
  });

  it('ignores the death of a container a restart already discarded (older generation)', async () => {
    const ws = await insertWorkspace(t.db, { status: 'ONLINE', generation: 4 });
    await addContainer(fake, ws, 4);
    await health.tick(ctx());
    // The generation-3 container, force-removed by the restart, dies after the new one started.
    const labels = { [LABEL_MANAGED]: 'true', [LABEL_WORKSPACE_ID]: ws, [LABEL_GENERATION]: '3' };
    fake.emit({ action: 'die', containerId: 'old', name: `ws-${prefixOf(ws)}`, labels, exitCode: 137 });
    await health.drained();
    expect(await statusOf(t.db, ws)).toBe('ONLINE');
    expect(restarted).toEqual([]);
  });

  it('ignores events without a workspace id or generation, and start/destroy events', async () => {
    const ws = await insertWorkspace(t.db, { status: 'ONLINE', generation: 1 });
    await addContainer(fake, ws, 1);
    await health.tick(ctx());
    fake.emit({ action: 'die', containerId: 'x', name: 'x', labels: { [LABEL_WORKSPACE_ID]: ws } });
    fake.emit({ action: 'die', containerId: 'x', name: 'x', labels: { [LABEL_WORKSPACE_ID]: 'not-a-uuid', [LABEL_GENERATION]: '1' } });
    fake.emit({ action: 'start', containerId: 'x', name: 'x', labels: { [LABEL_WORKSPACE_ID]: ws, [LABEL_GENERATION]: '1' } });
    fake.emit({ action: 'destroy', containerId: 'x', name: 'x', labels: { [LABEL_WORKSPACE_ID]: ws, [LABEL_GENERATION]: '1' } });
    await health.drained();
    expect(await statusOf(t.db, ws)).toBe('ONLINE');
  });

  it('sweeps: missing, exited and older-generation containers are dead; a running one of the generation is alive', async () => {
    const missing = await insertWorkspace(t.db, { status: 'ONLINE', generation: 1 });
    const exited = await insertWorkspace(t.db, { status: 'DEGRADED', generation: 1 });
    const older = await insertWorkspace(t.db, { status: 'ONLINE', generation: 2 });
    const alive = await insertWorkspace(t.db, { status: 'ONLINE', generation: 1 });
    const external = await insertWorkspace(t.db, { status: 'ONLINE', runtime: 'external' });
    await addContainer(fake, exited, 1, false);
    await addContainer(fake, older, 1);
    await addContainer(fake, alive, 1);
    const acted = await health.tick(ctx());
    expect(acted).toBe(6); // three marked OFFLINE, three restarts asked for
    for (const id of [missing, exited, older]) expect(await statusOf(t.db, id)).toBe('OFFLINE');
    expect(await statusOf(t.db, alive)).toBe('ONLINE');
    expect(await statusOf(t.db, external)).toBe('ONLINE');
    expect(restarted.sort()).toEqual([missing, exited, older].sort());
    expect((await eventsFor(t.db, exited))[0]!.payload).toMatchObject({ source: 'health-sweep' });
  });

  it('never reads an inspect error as a death', async () => {
    const ws = await insertWorkspace(t.db, { status: 'ONLINE', generation: 1 });
    await addContainer(fake, ws, 1, false);
    fake.failNext('inspect', new Error('daemon hiccup'));
    await health.tick(ctx());
    expect(await statusOf(t.db, ws)).toBe('ONLINE');
    await health.tick(ctx());
    expect(await statusOf(t.db, ws)).toBe('OFFLINE');
  });

  it('marks nothing when the listing fails, and still restarts OFFLINE workspaces', async () => {
    const online = await insertWorkspace(t.db, { status: 'ONLINE', generation: 1 });
    const offline = await insertWorkspace(t.db, { status: 'OFFLINE' });
    fake.failNext('list', new Error('list broke'));
    await expect(health.tick(ctx())).rejects.toBeInstanceOf(PartsFailed);
    expect(await statusOf(t.db, online)).toBe('ONLINE');
    expect(restarted).toEqual([offline]);
  });

  it('restarts OFFLINE container workspaces unless they sit under a PAUSED ancestor', async () => {
    const paused = await insertWorkspace(t.db, { status: 'PAUSED' });
    const under = await insertWorkspace(t.db, { status: 'OFFLINE', parentId: paused });
    const free = await insertWorkspace(t.db, { status: 'OFFLINE' });
    await insertWorkspace(t.db, { status: 'OFFLINE', runtime: 'external' });
    await health.tick(ctx());
    expect(restarted).toEqual([free]);
    expect(restarted).not.toContain(under);
  });

  it('reconnects a broken event stream with backoff and runs a full reconcile after it', async () => {
    const ws = await insertWorkspace(t.db, { status: 'ONLINE', generation: 1 });
    const c = await addContainer(fake, ws, 1);
    await health.tick(ctx());
    expect(fake.openEventStreams()).toBe(1);
    // The daemon goes away; the container dies while nobody listens.
    fake.setAvailable(false);
    fake.containers.get(c)!.running = false;
    await new Promise((r) => setTimeout(r, 60));
    expect(fake.openEventStreams()).toBe(0);
    expect(await statusOf(t.db, ws)).toBe('ONLINE');
    fake.setAvailable(true);
    await eventually(async () => ((await statusOf(t.db, ws)) === 'OFFLINE' ? true : undefined), 5_000, 'reconcile after reconnect');
    expect(fake.openEventStreams()).toBe(1);
    expect(health.stream.reconnects()).toBeGreaterThanOrEqual(1);
    expect(restarted).toEqual([ws]);
  });

  it('closes the stream when leadership is lost', async () => {
    await health.tick(ctx());
    expect(fake.openEventStreams()).toBe(1);
    health.onLeadershipLost!();
    expect(fake.openEventStreams()).toBe(0);
  });

  it('provisions again, once the runtime answers, the workspaces that went FAILED only for want of one', async () => {
    const outage = await insertWorkspace(t.db, { status: 'FAILED' });
    const other = await insertWorkspace(t.db, { status: 'FAILED' });
    await t.db.prisma.$executeRaw`/* testReasons */ UPDATE workspaces SET last_sample_error = CASE WHEN id = ${outage}::uuid
      THEN 'no container runtime is reachable' ELSE 'workspace image not found' END`;
    fake.setAvailable(false);
    await expect(health.tick(ctx())).rejects.toBeInstanceOf(TickSkipped);
    expect(reprovisioned).toEqual([]);
    fake.setAvailable(true);
    await health.tick(ctx());
    expect(reprovisioned).toEqual([outage]);
    expect(reprovisioned).not.toContain(other);
  });

  it('skips its tick without a container runtime, or when it does not answer', async () => {
    const none = createHealthLoop({ db: t.db, runtime: createNoneRuntime(), lifecycle, log: testLog, intervalMs: 1000 });
    await expect(none.tick(ctx())).rejects.toBeInstanceOf(TickSkipped);
    fake.setAvailable(false);
    await expect(health.tick(ctx())).rejects.toBeInstanceOf(TickSkipped);
  });
});
