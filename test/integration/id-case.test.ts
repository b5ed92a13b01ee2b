// IDs are UUID strings (API.md), and a UUID written in upper case is the same UUID: some platforms
// print them that way (Swift's uuidString, for one). Every GraphQL entry point treats it as the
// lower-case id it stands for, exactly as PostgreSQL and the agent endpoints already do: the same
// workspace, the same checks, the same answers, the same live deliveries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { connectWs, waitForListeners, type WsClient } from '../support/subscriptions.js';
import { createExternal, mintWorkspaceToken } from '../graphql/fixtures.js';

const up = (id: string) => id.toUpperCase();

describe('upper-case UUIDs', () => {
  let s: TestServer;
  let parent: { id: string; token: string };
  let child = '';
  let ws: WsClient;

  beforeAll(async () => {
    s = await startTestServer();
    const p = await createExternal(s, { name: 'case parent' });
    parent = { id: p.workspace.id, token: p.token };
    child = (await createExternal(s, { name: 'case child', parentId: up(parent.id) })).workspace.id;
    ws = connectWs(s);
  });
  afterAll(async () => {
    await ws?.dispose();
    await s?.stop();
  });

  const typename = async (mutation: string, vars: Record<string, unknown>) => {
    const r = await s.gql(mutation, vars);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    return Object.values(r.data as Record<string, { __typename: string }>)[0]!.__typename;
  };

  it('creates under an upper-case parentId, and reads the workspace back by it', async () => {
    const r = await s.gql('query($id: ID!) { workspace(id: $id) { id parent { id } } node(id: $id) { id } }', { id: up(child) });
    expect(r.data).toEqual({ workspace: { id: child, parent: { id: parent.id } }, node: { id: child } });
  });

  it('pauses and resumes by an upper-case id, cascading as usual', async () => {
    expect(await typename('mutation($id: ID!) { pauseWorkspace(id: $id) { __typename } }', { id: up(parent.id) })).toBe('PauseWorkspaceSuccess');
    const paused = await s.gql('query($a: ID!, $b: ID!) { a: workspace(id: $a) { status } b: workspace(id: $b) { status } }', { a: parent.id, b: child });
    expect(paused.data).toEqual({ a: { status: 'PAUSED' }, b: { status: 'PAUSED' } });
    expect(await typename('mutation($id: ID!) { resumeWorkspace(id: $id) { __typename } }', { id: up(parent.id) })).toBe('ResumeWorkspaceSuccess');
    const resumed = await s.gql('query($a: ID!, $b: ID!) { a: workspace(id: $a) { status } b: workspace(id: $b) { status } }', { a: parent.id, b: child });
    expect(resumed.data).toEqual({ a: { status: 'AWAITING_AGENT' }, b: { status: 'AWAITING_AGENT' } });
  });

  it('refuses a cycle written in upper case', async () => {
    const cycle = 'mutation($id: ID!, $p: ID) { updateWorkspace(id: $id, input: { parentId: $p }) { __typename } }';
    expect(await typename(cycle, { id: parent.id, p: up(parent.id) })).toBe('ConflictError');
    expect(await typename(cycle, { id: up(parent.id), p: up(child) })).toBe('ConflictError');
  });

  it('manages tokens and secrets by upper-case ids', async () => {
    const { tokenId } = await mintWorkspaceToken(s, up(child));
    expect(await typename('mutation($w: ID!, $t: ID!) { revokeWorkspaceToken(workspaceId: $w, tokenId: $t) { __typename } }', { w: up(child), t: up(tokenId) })).toBe(
      'RevokeWorkspaceTokenSuccess',
    );
    expect(await typename('mutation($w: ID!) { setWorkspaceSecret(workspaceId: $w, key: "K", value: "v") { __typename } }', { w: up(child) })).toBe('SetWorkspaceSecretSuccess');
    expect((await s.gql('query($id: ID!) { workspace(id: $id) { secretKeys } }', { id: child })).data.workspace.secretKeys).toEqual(['K']);
  });

  it('lets a workspace token read its own workspace and events by its id in upper case', async () => {
    const r = await s.gql('query($id: ID!) { workspace(id: $id) { id } events(workspaceId: $id, first: 1) { edges { node { workspaceId } } } }', { id: up(parent.id) }, parent.token);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    expect(r.data).toEqual({ workspace: { id: parent.id }, events: { edges: [{ node: { workspaceId: parent.id } }] } });
  });

  it('delivers live status changes and events to subscriptions naming the workspace in upper case', async () => {
    const own = connectWs(s, parent.token);
    try {
      const subs = [
        ws.subscribe('subscription($id: ID) { workspaceStatusChanged(workspaceId: $id) { event { workspaceId status } } }', { id: up(parent.id) }),
        ws.subscribe('subscription($id: ID) { workspaceEvents(workspaceId: $id) { workspaceId status } }', { id: up(parent.id) }),
        own.subscribe('subscription($id: ID) { workspaceStatusChanged(workspaceId: $id) { event { workspaceId status } } }', { id: up(parent.id) }),
      ];
      await waitForListeners(s, 3);
      expect(await typename('mutation($id: ID!) { pauseWorkspace(id: $id) { __typename } }', { id: parent.id })).toBe('PauseWorkspaceSuccess');
      for (const sub of subs) await sub.collected.count(1);
      expect(subs[0]!.collected.results[0]!.data.workspaceStatusChanged.event).toEqual({ workspaceId: parent.id, status: 'PAUSED' });
      expect(subs[1]!.collected.results[0]!.data.workspaceEvents).toEqual({ workspaceId: parent.id, status: 'PAUSED' });
      expect(subs[2]!.collected.results[0]!.data.workspaceStatusChanged.event).toEqual({ workspaceId: parent.id, status: 'PAUSED' });
      for (const sub of subs) sub.unsubscribe();
    } finally {
      await own.dispose();
    }
  });
});
