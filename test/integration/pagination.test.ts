import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { WorkspacesDocument, type WorkspacesQuery, type WorkspacesQueryVariables } from '../generated/graphql.js';
import { run } from '../graphql/client.js';
import { createExternal, UNKNOWN_UUID } from '../graphql/fixtures.js';

describe('workspaces pagination', () => {
  let s: TestServer;
  let ids: string[] = [];
  let parentId = '';
  beforeAll(async () => {
    s = await startTestServer();
    parentId = (await createExternal(s, { name: 'parent' })).workspace.id;
    ids = [parentId];
    for (let i = 0; i < 104; i++) ids.push((await createExternal(s, { name: `w${i}`, parentId: i < 3 ? parentId : null })).workspace.id);
    // Rows committed in one statement share created_at: the id breaks the tie.
    await s.db.pool.query(`UPDATE workspaces SET created_at = '2026-01-01T00:00:00.123456Z' WHERE id = ANY($1::uuid[])`, [ids.slice(50, 60)]);
    ids = (await s.db.pool.query('SELECT id FROM workspaces ORDER BY created_at, id')).rows.map((r) => r.id as string);
  });
  afterAll(async () => {
    await s?.stop();
  });

  const page = (vars: WorkspacesQueryVariables) => run(s, WorkspacesDocument, vars);

  it('defaults to 20, oldest first, with totalCount of all matches', async () => {
    const r = (await page({})).data.workspaces;
    expect(r.edges.map((e) => e.node.id)).toEqual(ids.slice(0, 20));
    expect(r.totalCount).toBe(105);
    expect(r.pageInfo).toEqual({ hasNextPage: true, endCursor: r.edges[19]!.cursor });
  });

  it('caps first at 100, and last likewise (the last 100, still oldest first)', async () => {
    expect((await page({ first: 1000 })).data.workspaces.edges).toHaveLength(100);
    const last = await s.gql('{ workspaces(last: 1000) { edges { node { id } } pageInfo { hasPreviousPage hasNextPage } } }');
    expect(last.data.workspaces.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(ids.slice(-100));
    expect(last.data.workspaces.pageInfo).toEqual({ hasPreviousPage: true, hasNextPage: false });
  });

  it('walks every row exactly once with after, including rows that share created_at', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const r: WorkspacesQuery['workspaces'] = (await page({ first: 7, after })).data.workspaces;
      seen.push(...r.edges.map((e) => e.node.id));
      if (!r.pageInfo.hasNextPage) break;
      after = r.pageInfo.endCursor!;
    }
    expect(seen).toEqual(ids);
  });

  it('gives first: 0 an empty page whose totalCount is still the number of matches', async () => {
    const r = (await page({ first: 0 })).data.workspaces;
    expect(r).toEqual({ totalCount: 105, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] });
  });

  it('answers an empty page past the end', async () => {
    const last = (await page({ first: 100, after: (await page({ first: 100 })).data.workspaces.pageInfo.endCursor })).data.workspaces;
    expect(last.edges).toHaveLength(5);
    const past = (await page({ first: 5, after: last.pageInfo.endCursor })).data.workspaces;
    expect(past).toMatchObject({ edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 105 });
  });

  it.each([[-1], [-100]])('refuses first: %i with BAD_USER_INPUT', async (first) => {
    const r = await page({ first });
    expect(r.errors).toHaveLength(1);
    expect(r.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });

  it.each([['garbage'], ['!!!'], [Buffer.from('123:not-a-uuid').toString('base64url')], [Buffer.from('x:00000000-0000-4000-8000-000000000000').toString('base64url')], ['']])(
    'refuses the malformed cursor %j with BAD_USER_INPUT',
    async (after) => {
      const r = await page({ after });
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    },
  );

  it('filters by parentId (an unknown or non-UUID parent is an empty connection)', async () => {
    const r = (await page({ parentId })).data.workspaces;
    expect(r.totalCount).toBe(3);
    for (const other of [UNKNOWN_UUID, 'not-a-uuid']) {
      const empty = await page({ parentId: other });
      expect(empty.errors).toBeUndefined();
      expect(empty.data.workspaces).toMatchObject({ totalCount: 0, edges: [] });
    }
  });

  it('pages Query.events by the same rule: 20 by default, capped at 100', async () => {
    const ev = (first?: number) => s.gql('query($first: Int) { events(first: $first) { edges { cursor } pageInfo { hasNextPage } } }', { first });
    expect((await ev()).data.events.edges).toHaveLength(20);
    expect((await ev(1000)).data.events.edges).toHaveLength(100);
    expect((await ev(1000)).data.events.pageInfo.hasNextPage).toBe(true);
  });

  it('filters by status', async () => {
    expect((await page({ status: ['AWAITING_AGENT'] })).data.workspaces.totalCount).toBe(105);
    expect((await page({ status: ['ONLINE', 'PAUSED'] })).data.workspaces.totalCount).toBe(0);
  });
});
