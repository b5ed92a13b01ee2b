// The query side of API.md's Frontends rules: node/nodes (visibility, order, limits), childCount,
// workspaceCounts and serverTime, each through real HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';
import { createExternal, mintWorkspaceToken, UNKNOWN_UUID } from '../graphql/fixtures.js';

const NODE = `query($id: ID!) { node(id: $id) { __typename id
  ... on Workspace { name } ... on WorkspaceToken { prefix } ... on OrgToken { readOnly } } }`;
const NODES = 'query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }';

describe('node and nodes', () => {
  let s: TestServer;
  let own: { id: string; token: string };
  let other = '';
  let removed = '';
  let tokenId = '';
  let revokedTokenId = '';
  let orgTokenId = '';
  let orgToken = '';
  let readOnlyToken = '';

  beforeAll(async () => {
    s = await startTestServer();
    const mine = await createExternal(s, { name: 'mine' });
    own = { id: mine.workspace.id, token: mine.token };
    other = (await createExternal(s, { name: 'other' })).workspace.id;
    tokenId = (await mintWorkspaceToken(s, other)).tokenId;
    revokedTokenId = (await mintWorkspaceToken(s, other)).tokenId;
    await s.gql('mutation($w: ID!, $t: ID!) { revokeWorkspaceToken(workspaceId: $w, tokenId: $t) { __typename } }', { w: other, t: revokedTokenId });
    removed = (await createExternal(s, { name: 'gone' })).workspace.id;
    await s.gql('mutation($id: ID!) { deleteWorkspace(id: $id) { __typename } }', { id: removed });
    const org = await s.gql('mutation { createOrgToken(name: "o") { ... on CreateOrgTokenSuccess { token orgToken { id } } } }');
    orgToken = org.data.createOrgToken.token;
    orgTokenId = org.data.createOrgToken.orgToken.id;
    const ro = await s.gql('mutation { createOrgToken(readOnly: true) { ... on CreateOrgTokenSuccess { token } } }');
    readOnlyToken = ro.data.createOrgToken.token;
  });
  afterAll(async () => {
    await s?.stop();
  });

  const node = async (id: string, token: string | null = TEST_ADMIN_TOKEN) => {
    const r = await s.gql(NODE, { id }, token);
    expect(r.errors).toBeUndefined();
    return r.data.node;
  };

  it('gives the admin every kind of node by its plain UUID, REMOVED workspaces included', async () => {
    expect(await node(own.id)).toEqual({ __typename: 'Workspace', id: own.id, name: 'mine' });
    expect(await node(removed)).toMatchObject({ __typename: 'Workspace', id: removed });
    expect(await node(tokenId)).toMatchObject({ __typename: 'WorkspaceToken', id: tokenId });
    expect(await node(orgTokenId)).toEqual({ __typename: 'OrgToken', id: orgTokenId, readOnly: false });
    expect(await node(own.id.toUpperCase())).toMatchObject({ id: own.id });
  });

  it('answers null, never an error, for unknown, non-UUID and revoked ids', async () => {
    for (const id of [UNKNOWN_UUID, 'not-a-uuid', '', revokedTokenId]) expect(await node(id)).toBeNull();
  });

  it('shows org tokens (writable or read-only) workspaces and workspace tokens but no org token', async () => {
    for (const token of [orgToken, readOnlyToken]) {
      expect(await node(other, token)).toMatchObject({ __typename: 'Workspace', id: other });
      expect(await node(tokenId, token)).toMatchObject({ __typename: 'WorkspaceToken' });
      expect(await node(orgTokenId, token)).toBeNull();
    }
  });

  it('shows a workspace token its own workspace only, and null for every other id', async () => {
    expect(await node(own.id, own.token)).toMatchObject({ __typename: 'Workspace', id: own.id });
    for (const id of [other, tokenId, orgTokenId, UNKNOWN_UUID]) expect(await node(id, own.token)).toBeNull();
    const ownTokens = await s.gql('query($id: ID!) { workspace(id: $id) { tokens { id } } }', { id: own.id });
    expect(await node(ownTokens.data.workspace.tokens[0].id, own.token)).toBeNull();
  });

  it('answers nodes in the given order with nulls in place, duplicates kept', async () => {
    const ids = [tokenId, 'x', own.id, UNKNOWN_UUID, orgTokenId, own.id];
    const r = await s.gql(NODES, { ids });
    expect(r.data.nodes).toEqual([
      { __typename: 'WorkspaceToken', id: tokenId },
      null,
      { __typename: 'Workspace', id: own.id },
      null,
      { __typename: 'OrgToken', id: orgTokenId },
      { __typename: 'Workspace', id: own.id },
    ]);
    const asSelf = await s.gql(NODES, { ids: [other, own.id] }, own.token);
    expect(asSelf.data.nodes).toEqual([null, { __typename: 'Workspace', id: own.id }]);
    expect((await s.gql(NODES, { ids: [] })).data.nodes).toEqual([]);
  });

  it('accepts 100 ids and refuses 101 with BAD_USER_INPUT', async () => {
    const ok = await s.gql(NODES, { ids: Array.from({ length: 100 }, () => own.id) });
    expect(ok.data.nodes).toHaveLength(100);
    const r = await s.gql(NODES, { ids: Array.from({ length: 101 }, () => own.id) });
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.status).toBeLessThan(500);
  });
});

describe('childCount, workspaceCounts and serverTime', () => {
  let s: TestServer;
  let parent: { id: string; token: string };
  const children: string[] = [];

  beforeAll(async () => {
    s = await startTestServer();
    const p = await createExternal(s, { name: 'parent' });
    parent = { id: p.workspace.id, token: p.token };
    for (let i = 0; i < 4; i++) children.push((await createExternal(s, { name: `c${i}`, parentId: parent.id })).workspace.id);
    // Statuses set directly: the counts read the column, whatever put it there.
    await s.db.pool.query(`UPDATE workspaces SET status = 'ONLINE' WHERE id = $1`, [children[0]]);
    await s.db.pool.query(`UPDATE workspaces SET status = 'PAUSED' WHERE id = $1`, [children[1]]);
    await s.gql('mutation($id: ID!) { deleteWorkspace(id: $id) { __typename } }', { id: children[3] });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('counts the non-REMOVED direct children, in a list and alone, and zero for a workspace token', async () => {
    const one = await s.gql('query($id: ID!) { workspace(id: $id) { childCount children { id } } }', { id: parent.id });
    expect(one.data.workspace).toEqual({ childCount: 3, children: children.slice(0, 3).map((id) => ({ id })) });
    const list = await s.gql('{ workspaces(first: 100) { edges { node { id childCount } } } }');
    const counts = new Map(list.data.workspaces.edges.map((e: any) => [e.node.id, e.node.childCount]));
    expect(counts.get(parent.id)).toBe(3);
    expect(counts.get(children[0])).toBe(0);
    const asSelf = await s.gql('query($id: ID!) { workspace(id: $id) { childCount } }', { id: parent.id }, parent.token);
    expect(asSelf.data.workspace.childCount).toBe(0);
  });

  it('counts every status but REMOVED in enum order with zeros, fleet-wide and for one parent', async () => {
    const all = await s.gql('{ workspaceCounts { status count } }');
    expect(all.data.workspaceCounts).toEqual([
      { status: 'PROVISIONING', count: 0 },
      { status: 'ONLINE', count: 1 },
      { status: 'DEGRADED', count: 0 },
      { status: 'OFFLINE', count: 0 },
      { status: 'FAILED', count: 0 },
      { status: 'PAUSED', count: 1 },
      { status: 'HIBERNATING', count: 0 },
      { status: 'HIBERNATED', count: 0 },
      { status: 'AWAITING_AGENT', count: 2 },
    ]);
    const byParent = await s.gql('query($p: ID) { workspaceCounts(parentId: $p) { status count } }', { p: parent.id });
    expect(byParent.data.workspaceCounts.filter((c: any) => c.count > 0)).toEqual([
      { status: 'ONLINE', count: 1 },
      { status: 'PAUSED', count: 1 },
      { status: 'AWAITING_AGENT', count: 1 },
    ]);
    for (const p of [UNKNOWN_UUID, 'not-a-uuid', children[0]]) {
      const r = await s.gql('query($p: ID) { workspaceCounts(parentId: $p) { status count } }', { p });
      expect(r.errors).toBeUndefined();
      expect(r.data.workspaceCounts.map((c: any) => c.count)).toEqual(Array(9).fill(0));
    }
  });

  it('refuses workspaceCounts to a workspace token (FORBIDDEN) and to no credential (UNAUTHENTICATED)', async () => {
    expect((await s.gql('{ workspaceCounts { count } }', {}, parent.token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await s.gql('{ workspaceCounts { count } }', {}, null)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it("answers serverTime with the server's clock, to anyone", async () => {
    const before = Date.now();
    const r = await s.gql('{ serverTime }', {}, null);
    expect(r.errors).toBeUndefined();
    expect(r.data.serverTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const t = Date.parse(r.data.serverTime);
    expect(t).toBeGreaterThanOrEqual(before - 5);
    expect(t).toBeLessThanOrEqual(Date.now() + 5);
  });
});
