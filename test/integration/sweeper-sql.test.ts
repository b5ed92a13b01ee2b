// Every statement of the orphan sweeper on a real database: what must match and what must not, for
// each status, the external runtime, fresh and recently used tokens, REMOVED rows, and names that a
// LIKE pattern would have read as wildcards (`%`, `_`) or that are not hex.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WORKSPACE_STATUSES, type WorkspaceStatus } from '../../services/workspaces/record.js';
import {
  findRefsRemovedOrAbsent,
  findRefsWithoutRow,
  findRemovedWorkspaceRefs,
  revokeStaleTokens,
  revokeWorkspaceTokensNaive,
  selectStaleTokenWorkspacesNaive,
} from '../../services/reconcilers/sweeper-sql.js';
import { insertToken, insertWorkspace, liveTokens, openTestDb, prefixOf, type ReconcilerTestDb } from '../support/reconcilers.js';

const GRACE = 300;
const STALE = GRACE + 60;
const WILDCARDS = ['%', '_', '%%%%%%%%%%%%', '____________', '%-%', 'ABCDEF12-345', 'zzzzzzzz-zzz', ''];
const none = { ids: [] as string[], prefixes: [] as string[] };

describe('orphan sweeper statements', () => {
  let t: ReconcilerTestDb;
  beforeAll(async () => {
    t = await openTestDb();
  });
  afterAll(async () => {
    await t?.stop();
  });
  beforeEach(async () => {
    await t.db.prisma.$executeRaw`/* testReset */ TRUNCATE workspaces, workspace_auth_tokens, workspace_events CASCADE`;
  });

  describe('findRemovedWorkspaceRefs', () => {
    it('returns a labeled id only when its workspace is REMOVED, for every status', async () => {
      const ids = new Map<WorkspaceStatus, string>();
      for (const status of WORKSPACE_STATUSES) ids.set(status, await insertWorkspace(t.db, { status }));
      const rows = await findRemovedWorkspaceRefs(t.db.prisma, { ids: [...ids.values(), randomUUID()], prefixes: [] });
      expect(rows).toEqual([{ id: ids.get('REMOVED'), prefix: null }]);
    });

    it('matches an unlabeled prefix of a REMOVED workspace by equality only', async () => {
      const removed = await insertWorkspace(t.db, { status: 'REMOVED' });
      const online = await insertWorkspace(t.db, { status: 'ONLINE' });
      const rows = await findRemovedWorkspaceRefs(t.db.prisma, { ids: [], prefixes: [prefixOf(removed), prefixOf(online), ...WILDCARDS] });
      expect(rows).toEqual([{ id: null, prefix: prefixOf(removed) }]);
    });

    it('does not take a prefix for REMOVED while a live workspace shares it', async () => {
      const removed = '0123abcd-0001-4000-8000-000000000001';
      await insertWorkspace(t.db, { id: removed, status: 'REMOVED' });
      await insertWorkspace(t.db, { id: '0123abcd-0002-4000-8000-000000000002', status: 'ONLINE' });
      // Both ids start with "0123abcd-000": the prefix is ambiguous.
      expect(await findRemovedWorkspaceRefs(t.db.prisma, { ids: [], prefixes: ['0123abcd-000'] })).toEqual([]);
      expect(await findRemovedWorkspaceRefs(t.db.prisma, { ids: [removed], prefixes: [] })).toEqual([{ id: removed, prefix: null }]);
    });

    it('answers nothing for empty arrays', async () => {
      await insertWorkspace(t.db, { status: 'REMOVED' });
      expect(await findRemovedWorkspaceRefs(t.db.prisma, none)).toEqual([]);
    });
  });

  describe('findRefsWithoutRow', () => {
    it('returns ids with no row at all, and never an id whose row exists in any status', async () => {
      const existing = [];
      for (const status of WORKSPACE_STATUSES) existing.push(await insertWorkspace(t.db, { status }));
      const ghost = randomUUID();
      const rows = await findRefsWithoutRow(t.db.prisma, { ids: [...existing, ghost], prefixes: [] });
      expect(rows).toEqual([{ id: ghost, prefix: null }]);
    });

    it('compares prefixes by equality: a row keeps its prefix, wildcards match no row', async () => {
      const removed = await insertWorkspace(t.db, { status: 'REMOVED' });
      const ghostPrefix = 'deadbeef-123';
      const rows = await findRefsWithoutRow(t.db.prisma, { ids: [], prefixes: [prefixOf(removed), ghostPrefix, '%', '_'] });
      expect(rows.map((r) => r.prefix).sort()).toEqual(['%', '_', ghostPrefix].sort());
    });
  });

  describe('findRefsRemovedOrAbsent', () => {
    it('returns ids that are REMOVED or absent, for every status', async () => {
      const ids = new Map<WorkspaceStatus, string>();
      for (const status of WORKSPACE_STATUSES) ids.set(status, await insertWorkspace(t.db, { status }));
      const ghost = randomUUID();
      const rows = await findRefsRemovedOrAbsent(t.db.prisma, { ids: [...ids.values(), ghost], prefixes: [] });
      expect(rows.map((r) => r.id).sort()).toEqual([ids.get('REMOVED'), ghost].sort());
    });

    it('returns a prefix only when no live workspace carries it', async () => {
      const removed = await insertWorkspace(t.db, { status: 'REMOVED' });
      const paused = await insertWorkspace(t.db, { status: 'PAUSED' });
      const shared = '0123abcd-000';
      await insertWorkspace(t.db, { id: `${shared}1-4000-8000-000000000001`, status: 'REMOVED' });
      await insertWorkspace(t.db, { id: `${shared}2-4000-8000-000000000002`, status: 'HIBERNATED' });
      const rows = await findRefsRemovedOrAbsent(t.db.prisma, {
        ids: [],
        prefixes: [prefixOf(removed), prefixOf(paused), shared, 'feedface-000'],
      });
      expect(rows.map((r) => r.prefix).sort()).toEqual([prefixOf(removed), 'feedface-000'].sort());
    });
  });

  describe('revokeStaleTokens', () => {
    const eligible = WORKSPACE_STATUSES.filter((s) => s !== 'REMOVED' && s !== 'PROVISIONING');

    it('revokes a stale token in every status but REMOVED and PROVISIONING', async () => {
      const tokens = new Map<WorkspaceStatus, string>();
      for (const status of WORKSPACE_STATUSES) {
        const ws = await insertWorkspace(t.db, { status });
        tokens.set(status, await insertToken(t.db, ws, { createdAgoS: STALE }));
      }
      const revoked = await revokeStaleTokens(t.db.prisma, none, GRACE);
      expect(revoked.map((r) => r.id).sort()).toEqual(eligible.map((s) => tokens.get(s)).sort());
    });

    it('never revokes the tokens of an external workspace', async () => {
      for (const status of WORKSPACE_STATUSES) {
        const ws = await insertWorkspace(t.db, { status, runtime: 'external' });
        await insertToken(t.db, ws, { createdAgoS: STALE });
      }
      expect(await revokeStaleTokens(t.db.prisma, none, GRACE)).toEqual([]);
    });

    it('keeps a token just issued and a token used recently, beside a stale one of the same workspace', async () => {
      const ws = await insertWorkspace(t.db, { status: 'OFFLINE' });
      const fresh = await insertToken(t.db, ws, { createdAgoS: 0 });
      const used = await insertToken(t.db, ws, { createdAgoS: 86_400, usedAgoS: 10 });
      const unusedForLong = await insertToken(t.db, ws, { createdAgoS: 86_400, usedAgoS: STALE });
      const stale = await insertToken(t.db, ws, { createdAgoS: STALE });
      const revoked = await revokeStaleTokens(t.db.prisma, none, GRACE);
      expect(revoked.map((r) => r.id).sort()).toEqual([unusedForLong, stale].sort());
      expect(await liveTokens(t.db, ws)).toEqual([fresh, used].sort());
    });

    it('measures the grace with the bound number of seconds', async () => {
      const ws = await insertWorkspace(t.db, { status: 'FAILED' });
      const token = await insertToken(t.db, ws, { createdAgoS: 20 });
      expect(await revokeStaleTokens(t.db.prisma, none, 30)).toEqual([]);
      expect((await revokeStaleTokens(t.db.prisma, none, 10)).map((r) => r.id)).toEqual([token]);
    });

    it('spares workspaces with a labeled container or an unlabeled container of their prefix', async () => {
      const labeled = await insertWorkspace(t.db, { status: 'ONLINE' });
      const named = await insertWorkspace(t.db, { status: 'ONLINE' });
      const bare = await insertWorkspace(t.db, { status: 'ONLINE' });
      for (const ws of [labeled, named, bare]) await insertToken(t.db, ws, { createdAgoS: STALE });
      const revoked = await revokeStaleTokens(t.db.prisma, { ids: [labeled], prefixes: [prefixOf(named)] }, GRACE);
      expect(revoked.map((r) => r.workspace_id)).toEqual([bare]);
    });

    it('reads container prefixes literally: wildcards protect nobody', async () => {
      const ws = await insertWorkspace(t.db, { status: 'OFFLINE' });
      const token = await insertToken(t.db, ws, { createdAgoS: STALE });
      const revoked = await revokeStaleTokens(t.db.prisma, { ids: [], prefixes: WILDCARDS }, GRACE);
      expect(revoked.map((r) => r.id)).toEqual([token]);
    });

    it('leaves revoked tokens as they were', async () => {
      const ws = await insertWorkspace(t.db, { status: 'OFFLINE' });
      await insertToken(t.db, ws, { createdAgoS: STALE, revoked: true });
      expect(await revokeStaleTokens(t.db.prisma, none, GRACE)).toEqual([]);
    });
  });

  describe('the naive variant (test-only)', () => {
    it('selects the same candidate workspaces as the exact statement would revoke from', async () => {
      const offline = await insertWorkspace(t.db, { status: 'OFFLINE' });
      const provisioning = await insertWorkspace(t.db, { status: 'PROVISIONING' });
      const external = await insertWorkspace(t.db, { status: 'ONLINE', runtime: 'external' });
      const withContainer = await insertWorkspace(t.db, { status: 'ONLINE' });
      for (const ws of [offline, provisioning, external, withContainer]) await insertToken(t.db, ws, { createdAgoS: STALE });
      const rows = await selectStaleTokenWorkspacesNaive(t.db.prisma, { ids: [withContainer], prefixes: ['%'] }, GRACE);
      expect(rows).toEqual([{ id: offline }]);
    });

    it('revokes every live token of the workspace, fresh ones included (the bug it stands for)', async () => {
      const ws = await insertWorkspace(t.db, { status: 'OFFLINE' });
      const stale = await insertToken(t.db, ws, { createdAgoS: STALE });
      const fresh = await insertToken(t.db, ws, { createdAgoS: 0 });
      const revoked = await revokeWorkspaceTokensNaive(t.db.prisma, ws);
      expect(revoked.map((r) => r.id).sort()).toEqual([stale, fresh].sort());
    });
  });
});
