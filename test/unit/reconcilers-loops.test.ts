// Liveness, provision timeout, hibernation and retention loops, against the in-memory runtime and a
// real (embedded) database: what each writes, with which events, and what it leaves alone.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../services/errors.js';
import { createHibernationLoop } from '../../services/reconcilers/hibernation.js';
import { createLivenessLoop } from '../../services/reconcilers/liveness.js';
import { PartsFailed } from '../../services/reconcilers/loop.js';
import { createProvisionTimeoutLoop, provisionTimeoutReason, timeoutReasons } from '../../services/reconcilers/provision-timeout.js';
import { createRetentionLoop, retentionIntervalMs } from '../../services/reconcilers/retention.js';
import { createFakeRuntime, type FakeRuntime } from '../../services/runtime/fake.js';
import type { WorkspaceRecord } from '../../services/workspaces/record.js';
import { addManagedContainer, eventsFor, insertWorkspace, openTestDb, statusOf, testLog, type ReconcilerTestDb } from '../support/reconcilers.js';

const ctx = (leaderSince = new Date(0)) => ({ signal: new AbortController().signal, leaderSince });

const addContainer = (fake: FakeRuntime, workspaceId: string, generation: number, name?: string, running = true) =>
  addManagedContainer(fake, workspaceId, generation, { name, running });

describe('reconciler loops', () => {
  let t: ReconcilerTestDb;
  let fake: FakeRuntime;
  beforeAll(async () => {
    t = await openTestDb();
  });
  afterAll(async () => {
    await t?.stop();
  });
  beforeEach(async () => {
    await t.db.prisma.$executeRaw`/* testReset */ TRUNCATE workspaces, workspace_auth_tokens, workspace_events CASCADE`;
    fake = createFakeRuntime();
  });

  describe('liveness', () => {
    it('marks silent workspaces OFFLINE with one event each naming the source', async () => {
      const silent = await insertWorkspace(t.db, { status: 'DEGRADED', runtime: 'external', heartbeatAgoS: 120, statusChangedAgoS: 120 });
      const talking = await insertWorkspace(t.db, { status: 'ONLINE', heartbeatAgoS: 5, statusChangedAgoS: 120 });
      const loop = createLivenessLoop({ db: t.db, timeoutS: 90, intervalMs: 10_000 });
      expect(await loop.tick(ctx())).toBe(1);
      expect(await statusOf(t.db, silent)).toBe('OFFLINE');
      expect(await statusOf(t.db, talking)).toBe('ONLINE');
      const events = await eventsFor(t.db, silent);
      expect(events).toEqual([expect.objectContaining({ type: 'WORKSPACE_OFFLINE', status: 'OFFLINE', previous_status: 'DEGRADED' })]);
      expect(events[0]!.payload).toMatchObject({ source: 'liveness', timeoutSeconds: 90 });
      expect(await loop.tick(ctx())).toBe(0);
      expect(await eventsFor(t.db, silent)).toHaveLength(1);
    });

    it('gives agents a full timeout after this instance starts leading', async () => {
      const silent = await insertWorkspace(t.db, { status: 'ONLINE', heartbeatAgoS: 600, statusChangedAgoS: 600 });
      const loop = createLivenessLoop({ db: t.db, timeoutS: 90, intervalMs: 10_000 });
      expect(await loop.tick(ctx(new Date()))).toBe(0);
      expect(await statusOf(t.db, silent)).toBe('ONLINE');
    });
  });

  describe('provision timeout', () => {
    it('fails overdue provisioning with a reason and a sourced event, and removes that generation\'s container', async () => {
      const ws = await insertWorkspace(t.db, { status: 'PROVISIONING', generation: 2, statusChangedAgoS: 700, lastActiveAgoS: 700 });
      const newer = await insertWorkspace(t.db, { status: 'PROVISIONING', generation: 2, statusChangedAgoS: 700, lastActiveAgoS: 700 });
      await addContainer(fake, ws, 2);
      // A container of a later generation than the one that timed out is not this loop's to remove.
      const keep = await addContainer(fake, newer, 3);
      const loop = createProvisionTimeoutLoop({ db: t.db, runtime: fake, log: testLog, timeoutS: 600, intervalMs: 30_000 });
      expect(await loop.tick(ctx())).toBe(2);
      expect(await statusOf(t.db, ws)).toBe('FAILED');
      expect([...fake.containers.keys()]).toEqual([keep]);
      const [event] = await eventsFor(t.db, ws);
      expect(event).toMatchObject({ type: 'WORKSPACE_FAILED', previous_status: 'PROVISIONING' });
      expect(event!.payload).toMatchObject({ source: 'provision-timeout', reason: provisionTimeoutReason(600), timeoutSeconds: 600 });
      const rows = await t.db.prisma.$queryRaw<{ last_sample_error: string }[]>`
        /* testReason */ SELECT last_sample_error FROM workspaces WHERE id = ${ws}::uuid`;
      expect(rows[0]!.last_sample_error).toBe(provisionTimeoutReason(600));
    });

    it('says what actually happened: never claimed, claimed by a dead instance, created but never started, still being provisioned', async () => {
      const overdue = { status: 'PROVISIONING' as const, generation: 4, statusChangedAgoS: 700, lastActiveAgoS: 700 };
      const unclaimed = await insertWorkspace(t.db, overdue);
      const orphaned = await insertWorkspace(t.db, overdue);
      const created = await insertWorkspace(t.db, overdue);
      const busy = await insertWorkspace(t.db, overdue);
      const claim = (id: string, owner: string, agoS: number) =>
        t.db.prisma.$executeRaw`/* testClaim */ UPDATE workspaces SET provision_claimed_by = ${owner},
          provision_claimed_at = now() - make_interval(secs => ${agoS}) WHERE id = ${id}::uuid`;
      await claim(orphaned, 'instance-gone', 60);
      await claim(created, 'instance-gone', 60);
      await claim(busy, 'instance-me', 1);
      await addContainer(fake, created, 4, undefined, false);
      const loop = createProvisionTimeoutLoop({ db: t.db, runtime: fake, log: testLog, timeoutS: 600, intervalMs: 30_000, instanceId: 'instance-me' });
      expect(await loop.tick(ctx())).toBe(4);
      const reasons = await t.db.prisma.$queryRaw<{ id: string; last_sample_error: string }[]>`
        /* testReasons */ SELECT id::text, last_sample_error FROM workspaces`;
      const reasonOf = new Map(reasons.map((r) => [r.id, r.last_sample_error]));
      expect(reasonOf.get(unclaimed)).toBe(timeoutReasons.neverClaimed(600));
      expect(reasonOf.get(orphaned)).toBe(timeoutReasons.ownerDied(600, 'instance-gone'));
      expect(reasonOf.get(created)).toBe(timeoutReasons.neverStarted(600));
      // Embedded: this instance's own fresh claim is alive; on a server, its sessions say so.
      if (t.db.embedded) expect(reasonOf.get(busy)).toBe(timeoutReasons.stillWorking(600, 'instance-me'));
      else expect(reasonOf.get(busy)).toBe(timeoutReasons.ownerDied(600, 'instance-me'));
      expect((await eventsFor(t.db, orphaned))[0]!.payload).toMatchObject({ reason: timeoutReasons.ownerDied(600, 'instance-gone') });
    });

    it('writes no event when nothing matched', async () => {
      const ws = await insertWorkspace(t.db, { status: 'PROVISIONING', statusChangedAgoS: 10, lastActiveAgoS: 10 });
      const loop = createProvisionTimeoutLoop({ db: t.db, runtime: fake, log: testLog, timeoutS: 600, intervalMs: 30_000 });
      const before = t.statements.length;
      expect(await loop.tick(ctx())).toBe(0);
      expect(await eventsFor(t.db, ws)).toEqual([]);
      expect(t.statements.slice(before)).not.toContain('insertEvents');
    });
  });

  describe('hibernation', () => {
    it('hibernates idle workspaces through the lifecycle with source idle, skipping those that lost the claim', async () => {
      const a = await insertWorkspace(t.db, { status: 'ONLINE', hibernationIdleMinutes: 1, lastActiveAgoS: 120 });
      const b = await insertWorkspace(t.db, { status: 'DEGRADED', hibernationIdleMinutes: 1, lastActiveAgoS: 120 });
      await insertWorkspace(t.db, { status: 'ONLINE', hibernationIdleMinutes: 5, lastActiveAgoS: 120 });
      const calls: Array<[string, unknown]> = [];
      const lifecycle = {
        hibernate: async (id: string, opts?: unknown) => {
          calls.push([id, opts]);
          if (id === b) throw new ConflictError('busy again');
          return { id, status: 'HIBERNATED' } as WorkspaceRecord;
        },
      };
      const loop = createHibernationLoop({ db: t.db, lifecycle, log: testLog, intervalMs: 120_000 });
      expect(await loop.tick(ctx())).toBe(1);
      expect(calls.sort()).toEqual([[a, { source: 'idle' }], [b, { source: 'idle' }]].sort());
    });

    it('reports an unexpected failure after trying every candidate', async () => {
      const a = await insertWorkspace(t.db, { status: 'ONLINE', hibernationIdleMinutes: 1, lastActiveAgoS: 120 });
      const b = await insertWorkspace(t.db, { status: 'ONLINE', hibernationIdleMinutes: 1, lastActiveAgoS: 90 });
      const tried: string[] = [];
      const lifecycle = {
        hibernate: async (id: string) => {
          tried.push(id);
          if (id === a) throw new Error('database went away');
          return { id, status: 'HIBERNATED' } as WorkspaceRecord;
        },
      };
      const err = await createHibernationLoop({ db: t.db, lifecycle, log: testLog, intervalMs: 1000 }).tick(ctx()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PartsFailed);
      expect(tried.sort()).toEqual([a, b].sort());
    });
  });

  describe('event retention', () => {
    it('calls deleteExpired on its tick, at most hourly and more often for short retentions', async () => {
      let calls = 0;
      const loop = createRetentionLoop({ deleteExpired: async () => (calls++, 7) }, 30);
      expect(await loop.tick(ctx())).toBe(7);
      expect(calls).toBe(1);
      expect(loop.intervalMs).toBe(3_600_000);
      expect(retentionIntervalMs(0.01)).toBe(36_000);
      expect(retentionIntervalMs(0.000001)).toBe(1_000);
    });
  });
});
