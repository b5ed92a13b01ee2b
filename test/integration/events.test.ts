import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { EventCursorDocument, EventsDocument, UpdateWorkspaceDocument, WorkspaceEventsDocument } from '../generated/graphql.js';
import { run } from '../graphql/client.js';
import { createExternal, UNKNOWN_UUID } from '../graphql/fixtures.js';

describe('events', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('answers eventCursor "0" on an empty log, then the newest id', async () => {
    expect((await run(s, EventCursorDocument, {})).data.eventCursor).toBe('0');
    // The cursor read with a page, too, whichever way the page is read (a non-UUID parent matches nothing).
    for (const args of ['', '(parentId: "not-a-uuid")', '(first: 0)', '(search: "x", orderBy: { field: NAME, direction: DESC })']) {
      const r = await s.gql(`{ workspaces${args} { eventCursor totalCount } }`);
      expect(r.data.workspaces, args).toEqual({ eventCursor: '0', totalCount: 0 });
    }
    const { workspace } = await createExternal(s);
    const newest = (await run(s, EventsDocument, { first: 1 })).data.events.edges[0]!.node;
    expect(newest.workspaceId).toBe(workspace.id);
    expect((await run(s, EventCursorDocument, {})).data.eventCursor).toBe(newest.id);
  });

  it('pages newest first: the cursor is the id and `after` means older than it', async () => {
    const { workspace } = await createExternal(s);
    for (let i = 0; i < 5; i++) await run(s, UpdateWorkspaceDocument, { id: workspace.id, input: { name: `n${i}` } });
    // 2 creation events + 5 updates
    const all = (await run(s, EventsDocument, { workspaceId: workspace.id, first: 100 })).data.events;
    const ids = all.edges.map((e) => BigInt(e.node.id));
    expect(ids).toHaveLength(7);
    expect([...ids].sort((a, b) => (a > b ? -1 : 1))).toEqual(ids);
    expect(all.edges.every((e) => e.cursor === e.node.id)).toBe(true);
    expect(all.pageInfo.hasNextPage).toBe(false);

    const p1 = (await run(s, EventsDocument, { workspaceId: workspace.id, first: 3 })).data.events;
    expect(p1.pageInfo).toEqual({ hasNextPage: true, endCursor: all.edges[2]!.node.id });
    const p2 = (await run(s, EventsDocument, { workspaceId: workspace.id, first: 3, after: p1.pageInfo.endCursor })).data.events;
    const p3 = (await run(s, EventsDocument, { workspaceId: workspace.id, first: 3, after: p2.pageInfo.endCursor })).data.events;
    expect([...p1.edges, ...p2.edges, ...p3.edges].map((e) => e.node.id)).toEqual(all.edges.map((e) => e.node.id));
    expect(p3.pageInfo.hasNextPage).toBe(false);
  });

  it('serves Workspace.events with the same pages, batched for several workspaces', async () => {
    const a = (await createExternal(s)).workspace;
    const b = (await createExternal(s)).workspace;
    const r = await s.gql(
      `query($a: ID!, $b: ID!) { a: workspace(id: $a) { events(first: 1) { edges { node { workspaceId type } } pageInfo { hasNextPage } } }
                                 b: workspace(id: $b) { events(first: 1) { edges { node { workspaceId type } } } } }`,
      { a: a.id, b: b.id },
    );
    expect(r.data.a.events.edges).toEqual([{ node: { workspaceId: a.id, type: 'TOKEN_ISSUED' } }]);
    expect(r.data.a.events.pageInfo.hasNextPage).toBe(true);
    expect(r.data.b.events.edges[0].node.workspaceId).toBe(b.id);
    const own = (await run(s, WorkspaceEventsDocument, { id: a.id, first: 10 })).data.workspace!.events.edges.map((e) => e.node.type);
    expect(own).toEqual(['TOKEN_ISSUED', 'WORKSPACE_AWAITING_AGENT']);
  });

  it('answers an empty connection for an unknown or non-UUID workspace id', async () => {
    for (const workspaceId of [UNKNOWN_UUID, 'not-a-uuid']) {
      const r = await run(s, EventsDocument, { workspaceId });
      expect(r.errors).toBeUndefined();
      expect(r.data.events).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    }
  });

  it('gives a workspace token only its own events, with or without workspaceId, and FORBIDDEN for another id', async () => {
    const mine = await createExternal(s);
    const other = await createExternal(s);
    const all = (await run(s, EventsDocument, { first: 100 }, mine.token)).data.events.edges;
    expect(all.length).toBeGreaterThan(0);
    expect(all.every((e) => e.node.workspaceId === mine.workspace.id)).toBe(true);
    const own = (await run(s, EventsDocument, { workspaceId: mine.workspace.id }, mine.token)).data.events.edges;
    expect(own.map((e) => e.node.id)).toEqual(all.map((e) => e.node.id));
    const r = await run(s, EventsDocument, { workspaceId: other.workspace.id }, mine.token);
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await run(s, EventCursorDocument, {}, mine.token)).data.eventCursor).toMatch(/^[0-9]+$/);
  });

  it.each([['abc'], ['-1'], ['1.5'], ['99999999999999999999'], [''], ['01']])('refuses the malformed cursor %j with BAD_USER_INPUT', async (after) => {
    const r = await run(s, EventsDocument, { after });
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const w = (await createExternal(s)).workspace;
    const r2 = await run(s, WorkspaceEventsDocument, { id: w.id, after });
    expect(r2.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('gives first: 0 an empty page and refuses a negative first with BAD_USER_INPUT', async () => {
    expect((await run(s, EventsDocument, { first: 0 })).data.events.edges).toEqual([]);
    expect((await run(s, EventsDocument, { first: -1 })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('deleteExpired removes only events older than EVENT_RETENTION_DAYS', async () => {
    const { workspace } = await createExternal(s);
    const ids = (await run(s, EventsDocument, { workspaceId: workspace.id })).data.events.edges.map((e) => e.node.id);
    await s.db.pool.query(`UPDATE workspace_events SET created_at = now() - interval '31 days' WHERE id = $1`, [ids[1]]);
    await s.db.pool.query(`UPDATE workspace_events SET created_at = now() - interval '29 days' WHERE id = $1`, [ids[0]]);
    expect(await s.services.events.deleteExpired()).toBe(1);
    const left = (await run(s, EventsDocument, { workspaceId: workspace.id })).data.events.edges.map((e) => e.node.id);
    expect(left).toEqual([ids[0]]);
  });
});
