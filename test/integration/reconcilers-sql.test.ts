// The statements of the liveness, provision-timeout, hibernation and health loops, the tick record and
// the bulk event append, on a real database: for each status, the external runtime, and the clocks.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appendEvents } from '../../services/events/log.js';
import { markContainerEventDeath } from '../../services/reconcilers/container-death.js';
import {
  failTimedOutProvisioning,
  findIdleWorkspaces,
  findLiveContainerWorkspaces,
  findRestartableOffline,
  markContainersDead,
  markSilentWorkspacesOffline,
} from '../../services/reconcilers/loops-sql.js';
import { readTicks, recordTick } from '../../services/reconcilers/ticks-sql.js';
import { WORKSPACE_STATUSES, type WorkspaceStatus } from '../../services/workspaces/record.js';
import { eventsFor, insertWorkspace, openTestDb, statusOf, type ReconcilerTestDb } from '../support/reconcilers.js';

const longAgo = new Date(Date.now() - 86_400_000);
const ids = (ts: Array<{ workspace: { id: string } }>) => ts.map((t) => t.workspace.id).sort();

describe('reconciler loop statements', () => {
  let t: ReconcilerTestDb;
  beforeAll(async () => {
    t = await openTestDb();
  });
  afterAll(async () => {
    await t?.stop();
  });
  beforeEach(async () => {
    await t.db.prisma.$executeRaw`/* testReset */ TRUNCATE workspaces, workspace_auth_tokens, workspace_events, reconciler_ticks CASCADE`;
  });

  async function onePerStatus(extra: Parameters<typeof insertWorkspace>[1] = {}) {
    const m = new Map<WorkspaceStatus, string>();
    for (const status of WORKSPACE_STATUSES) m.set(status, await insertWorkspace(t.db, { status, ...extra }));
    return m;
  }

  describe('markSilentWorkspacesOffline', () => {
    it('moves only ONLINE and DEGRADED workspaces without a heartbeat for the timeout, external ones included', async () => {
      const silent = await onePerStatus({ heartbeatAgoS: 200, statusChangedAgoS: 200 });
      const external = await insertWorkspace(t.db, { status: 'DEGRADED', runtime: 'external', heartbeatAgoS: 200, statusChangedAgoS: 200 });
      const moved = await markSilentWorkspacesOffline(t.db.prisma, 90, longAgo);
      expect(ids(moved)).toEqual([silent.get('ONLINE'), silent.get('DEGRADED'), external].sort());
      expect(moved.find((m) => m.workspace.id === external)?.previousStatus).toBe('DEGRADED');
      expect(await statusOf(t.db, silent.get('ONLINE')!)).toBe('OFFLINE');
      expect(await statusOf(t.db, silent.get('PAUSED')!)).toBe('PAUSED');
    });

    it('spares a recent heartbeat, a recent status change, and silence from before this leader began', async () => {
      await insertWorkspace(t.db, { status: 'ONLINE', heartbeatAgoS: 30, statusChangedAgoS: 200 });
      await insertWorkspace(t.db, { status: 'ONLINE', heartbeatAgoS: null, statusChangedAgoS: 30 });
      await insertWorkspace(t.db, { status: 'ONLINE', heartbeatAgoS: 500, statusChangedAgoS: 10 });
      const never = await insertWorkspace(t.db, { status: 'ONLINE', heartbeatAgoS: null, statusChangedAgoS: 200 });
      expect(await markSilentWorkspacesOffline(t.db.prisma, 90, new Date())).toEqual([]);
      expect(ids(await markSilentWorkspacesOffline(t.db.prisma, 90, longAgo))).toEqual([never]);
    });
  });

  describe('failTimedOutProvisioning', () => {
    it('fails only PROVISIONING past the timeout, with the reason, in every runtime', async () => {
      const old = await onePerStatus({ statusChangedAgoS: 700, lastActiveAgoS: 700 });
      const ext = await insertWorkspace(t.db, { status: 'PROVISIONING', runtime: 'external', statusChangedAgoS: 700, lastActiveAgoS: 700 });
      const moved = await failTimedOutProvisioning(t.db.prisma, 600, longAgo, 'timed out');
      expect(ids(moved)).toEqual([old.get('PROVISIONING'), ext].sort());
      expect(moved[0]!.workspace.status).toBe('FAILED');
      expect(moved[0]!.workspace.lastSampleError).toBe('timed out');
      expect(moved[0]!.previousStatus).toBe('PROVISIONING');
    });

    it('counts from the latest (re)provisioning start and from when this leader began', async () => {
      // Re-provisioned from PROVISIONING: status_changed_at is old, last_active_at (reset by beginProvisioning) is not.
      await insertWorkspace(t.db, { status: 'PROVISIONING', statusChangedAgoS: 700, lastActiveAgoS: 100 });
      const stuck = await insertWorkspace(t.db, { status: 'PROVISIONING', statusChangedAgoS: 700, lastActiveAgoS: 700 });
      expect(await failTimedOutProvisioning(t.db.prisma, 600, new Date(), 'x')).toEqual([]);
      expect(ids(await failTimedOutProvisioning(t.db.prisma, 600, longAgo, 'x'))).toEqual([stuck]);
    });
  });

  describe('findIdleWorkspaces', () => {
    it('finds container workspaces idle past their minutes in ONLINE or DEGRADED only', async () => {
      const idle = await onePerStatus({ hibernationIdleMinutes: 5, lastActiveAgoS: 600 });
      await insertWorkspace(t.db, { status: 'ONLINE', runtime: 'external', hibernationIdleMinutes: 5, lastActiveAgoS: 600 });
      await insertWorkspace(t.db, { status: 'ONLINE', hibernationIdleMinutes: null, lastActiveAgoS: 600 });
      await insertWorkspace(t.db, { status: 'ONLINE', hibernationIdleMinutes: 5, lastActiveAgoS: 200 });
      await insertWorkspace(t.db, { status: 'ONLINE', hibernationIdleMinutes: 5, lastActiveAgoS: 600, activeTasks: 1 });
      expect((await findIdleWorkspaces(t.db.prisma)).sort()).toEqual([idle.get('ONLINE'), idle.get('DEGRADED')].sort());
    });
  });

  describe('health statements', () => {
    it('lists ONLINE and DEGRADED container workspaces with their generation', async () => {
      const m = await onePerStatus({ generation: 3 });
      await insertWorkspace(t.db, { status: 'ONLINE', runtime: 'external' });
      const rows = await findLiveContainerWorkspaces(t.db.prisma);
      expect(rows.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
        [m.get('ONLINE')!, m.get('DEGRADED')!].sort().map((id) => ({ id, generation: 3 })),
      );
    });

    it('marks dead only rows still ONLINE/DEGRADED at the generation that was checked', async () => {
      const m = await onePerStatus({ generation: 2 });
      const moved = await markContainersDead(
        t.db.prisma,
        [...m.values()].map((id) => ({ id, generation: id === m.get('DEGRADED') ? 1 : 2 })),
      );
      expect(ids(moved)).toEqual([m.get('ONLINE')]);
      expect(await markContainersDead(t.db.prisma, [])).toEqual([]);
    });

    it('finds OFFLINE container workspaces without a PAUSED ancestor', async () => {
      const paused = await insertWorkspace(t.db, { status: 'PAUSED' });
      const mid = await insertWorkspace(t.db, { status: 'ONLINE', parentId: paused });
      const underPaused = await insertWorkspace(t.db, { status: 'OFFLINE', parentId: mid });
      const online = await insertWorkspace(t.db, { status: 'ONLINE' });
      const underOnline = await insertWorkspace(t.db, { status: 'OFFLINE', parentId: online });
      const root = await insertWorkspace(t.db, { status: 'OFFLINE' });
      await insertWorkspace(t.db, { status: 'OFFLINE', runtime: 'external' });
      const others = await onePerStatus();
      const found = await findRestartableOffline(t.db.prisma);
      expect(found.sort()).toEqual([underOnline, root, others.get('OFFLINE')].sort());
      expect(found).not.toContain(underPaused);
    });

    it('marks a container event death only at the current generation, from ONLINE, DEGRADED or PROVISIONING', async () => {
      const m = await onePerStatus({ generation: 4 });
      const moved: string[] = [];
      for (const [status, id] of m) {
        if (await markContainerEventDeath(t.db, id, 4, { action: 'die', containerId: 'c', name: 'n', labels: {}, exitCode: 1 })) moved.push(status);
      }
      expect(moved.sort()).toEqual(['DEGRADED', 'ONLINE', 'PROVISIONING']);
      const stale = await insertWorkspace(t.db, { status: 'ONLINE', generation: 5 });
      expect(await markContainerEventDeath(t.db, stale, 4, { action: 'stop', containerId: 'c', name: 'n', labels: {} })).toBeNull();
      const ext = await insertWorkspace(t.db, { status: 'ONLINE', runtime: 'external', generation: 4 });
      expect(await markContainerEventDeath(t.db, ext, 4, { action: 'die', containerId: 'c', name: 'n', labels: {} })).toBeNull();
      const [event] = await eventsFor(t.db, m.get('ONLINE')!);
      expect(event).toMatchObject({ type: 'WORKSPACE_OFFLINE', status: 'OFFLINE', previous_status: 'ONLINE' });
      expect(event!.payload).toMatchObject({ source: 'container-event', action: 'die', exitCode: 1, generation: 4 });
    });
  });

  describe('reconciler_ticks', () => {
    it('records ticks; a failed tick keeps the last good tick time and says why', async () => {
      await recordTick(t.db.prisma, { loop: 'liveness', instanceId: 'a', error: null, items: 3, durationMs: 12 });
      const [first] = await readTicks(t.db.prisma, ['liveness'], [30]);
      expect(first).toMatchObject({ loop_name: 'liveness', recent: true });
      await recordTick(t.db.prisma, { loop: 'liveness', instanceId: 'b', error: 'boom', items: 0, durationMs: 1 });
      const rows = await t.db.prisma.$queryRaw<Array<{ last_tick_at: Date; leader_instance: string; last_error: string }>>`
        /* testTickRow */ SELECT last_tick_at, leader_instance, last_error FROM reconciler_ticks WHERE loop_name = 'liveness'`;
      expect(rows[0]).toMatchObject({ last_tick_at: first!.last_tick_at, leader_instance: 'b', last_error: 'boom' });
    });

    it('judges each tick against its own window by the database clock', async () => {
      await recordTick(t.db.prisma, { loop: 'hibernation', instanceId: 'a', error: null, items: 0, durationMs: 0 });
      await t.db.prisma.$executeRaw`/* testAgeTick */ UPDATE reconciler_ticks SET last_tick_at = now() - interval '100 seconds'`;
      const [row] = await readTicks(t.db.prisma, ['hibernation', 'liveness'], [90, 1000]);
      expect(row).toMatchObject({ loop_name: 'hibernation', recent: false });
      expect((await readTicks(t.db.prisma, ['hibernation'], [300]))[0]!.recent).toBe(true);
      await recordTick(t.db.prisma, { loop: 'orphan-sweeper', instanceId: 'a', error: 'no runtime', items: 0, durationMs: 0 });
      expect((await readTicks(t.db.prisma, ['orphan-sweeper'], [300]))[0]).toMatchObject({ last_tick_at: null, recent: false });
    });
  });

  describe('appendEvents', () => {
    it('writes ten thousand events in one insert, in order, beyond the bind-parameter limit of a VALUES list', async () => {
      const ws = await insertWorkspace(t.db, { status: 'ONLINE' });
      const events = Array.from({ length: 10_000 }, (_, i) => ({
        workspaceId: i % 2 ? ws : randomUUID(),
        type: i === 0 ? 'WORKSPACE_OFFLINE' : 'TOKEN_REVOKED',
        status: i === 0 ? ('OFFLINE' as const) : null,
        previousStatus: i === 0 ? ('ONLINE' as const) : null,
        payload: { n: i },
      }));
      const before = t.statements.length;
      expect(await t.db.tx(async (tx) => (await appendEvents(tx, events)).length)).toBe(10_000);
      expect(t.statements.slice(before).filter((s) => s === 'insertEvents')).toHaveLength(1);
      const rows = await t.db.prisma.$queryRaw<Array<{ n: number; type: string; status: string | null }>>`
        /* testBulkEvents */ SELECT (payload->>'n')::int AS n, type, status::text FROM workspace_events ORDER BY id`;
      expect(rows).toHaveLength(10_000);
      expect(rows.every((r, i) => r.n === i)).toBe(true);
      expect(rows[0]).toEqual({ n: 0, type: 'WORKSPACE_OFFLINE', status: 'OFFLINE' });
    });

    it('writes nothing for no events', async () => {
      const before = t.statements.length;
      expect(await t.db.tx(async (tx) => (await appendEvents(tx, [])).length)).toBe(0);
      expect(t.statements.slice(before)).not.toContain('lockEvents');
    });
  });
});
