// Query.workspaces reads the relations its query selects (parent, children, tokens, secretKeys) in the
// same statement as the page and primes the DataLoaders with them. These tests hold that read to the
// loaders' own answers: every listed node must equal what `workspace(id)` (unprimed loaders) answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createExternal, mintWorkspaceToken } from '../graphql/fixtures.js';

const RELATIONS = `fragment Related on Workspace {
  id name role tier runtime image status url agentCard activeTasks maxConcurrentTasks currentTask
  lastErrorRate lastSampleError uptimeSeconds hibernationIdleMinutes createdAt updatedAt lastHeartbeatAt
  parent { id name status createdAt parent { id } }
  children { id name status createdAt tokens { id } }
  tokens { id prefix createdAt lastUsedAt revokedAt }
  secretKeys
}`;

describe('workspaces list with relations', () => {
  let s: TestServer;
  /** Names of the statements sent through the pool's query(), the path of every list and loader read. */
  const statements: string[] = [];

  const gql = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const r = await s.gql<T>(query, variables);
    expect(r.errors).toBeUndefined();
    return r.data;
  };

  beforeAll(async () => {
    s = await startTestServer();
    const root = (await createExternal(s, { name: 'root', secrets: [{ key: 'ZED', value: 'z' }, { key: 'ALPHA', value: 'a' }] })).workspace.id;
    const kept = (await createExternal(s, { name: 'child-kept', parentId: root })).workspace.id;
    const gone = (await createExternal(s, { name: 'child-removed', parentId: root })).workspace.id;
    await createExternal(s, { name: 'child-last', parentId: root });
    await createExternal(s, { name: 'grandchild', parentId: kept });
    await createExternal(s, { name: 'lonely' });
    // A second live token and a revoked one: only live tokens are listed, newest first.
    await mintWorkspaceToken(s, kept);
    const revoked = await mintWorkspaceToken(s, kept);
    await gql(`mutation($w: ID!, $t: ID!) { revokeWorkspaceToken(workspaceId: $w, tokenId: $t) { __typename } }`, { w: kept, t: revoked.tokenId });
    await gql(`mutation($id: ID!) { deleteWorkspace(id: $id) { __typename } }`, { id: gone });
    // Values away from the defaults, so that a field lost or mangled on the way through JSON shows.
    await s.db.pool.query(
      `UPDATE workspaces SET role = 'planner', url = 'http://127.0.0.1:9/agent', agent_card = '{"skills":["a"],"n":1.5,"ok":true}',
              active_tasks = 2, max_concurrent_tasks = 3, current_task = 'task', last_error_rate = 0.1 + 0.2,
              last_sample_error = 'boom', uptime_seconds = 77, hibernation_idle_minutes = 30,
              last_heartbeat_at = '2026-01-02T03:04:05.678901Z'
        WHERE id = $1`,
      [kept],
    );
    // The REMOVED child keeps its tombstone: the list with includeRemoved shows it, children never do.
    const query = s.db.pool.query.bind(s.db.pool) as (...args: unknown[]) => unknown;
    (s.db.pool as { query: unknown }).query = (...args: unknown[]) => {
      const first = args[0];
      const text = typeof first === 'string' ? first : ((first as { text?: string }).text ?? '');
      const name = /\/\*\s*([A-Za-z0-9_-]+)\s*\*\//.exec(text)?.[1];
      if (name) statements.push(name);
      return query(...args);
    };
  });
  afterAll(async () => {
    await s?.stop();
  });

  const single = (id: string) => gql<{ workspace: unknown }>(`query($id: ID!) { workspace(id: $id) { ...Related } } ${RELATIONS}`, { id });

  it('answers every node exactly as the per-workspace read does, through a named fragment', async () => {
    statements.length = 0;
    const list = await gql<{ workspaces: { edges: Array<{ node: { id: string; name: string } }> } }>(
      `{ workspaces(first: 50, includeRemoved: true) { edges { node { ...Related } } } } ${RELATIONS}`,
    );
    // The page and all four relations came in one statement.
    expect(statements).toEqual(['listWorkspaces']);
    const nodes = list.workspaces.edges.map((e) => e.node);
    expect(nodes.map((n) => n.name)).toEqual(['root', 'child-kept', 'child-removed', 'child-last', 'grandchild', 'lonely']);
    for (const node of nodes) expect(node, node.name).toEqual((await single(node.id)).workspace);
    const root = nodes[0] as unknown as { children: Array<{ name: string }>; secretKeys: string[] };
    expect(root.children.map((c) => c.name)).toEqual(['child-kept', 'child-last']);
    expect(root.secretKeys).toEqual(['ALPHA', 'ZED']);
    const kept = nodes[1] as unknown as { tokens: Array<{ revokedAt: string | null }>; parent: { name: string } };
    expect(kept.tokens).toHaveLength(2);
    expect(kept.parent.name).toBe('root');
  });

  it('reads parents and children that are not on the page in full', async () => {
    const first = await gql<{ workspaces: { pageInfo: { endCursor: string } } }>(`{ workspaces(first: 1) { pageInfo { endCursor } } }`);
    // The second page starts after the root: the parent of both its nodes is off the page, and so is
    // child-kept's own child.
    const list = await gql<{ workspaces: { edges: Array<{ node: { id: string; name: string } }> } }>(
      `query($after: String) { workspaces(first: 2, after: $after) { edges { node { ...Related } } } } ${RELATIONS}`,
      { after: first.workspaces.pageInfo.endCursor },
    );
    const nodes = list.workspaces.edges.map((e) => e.node);
    expect(nodes.map((n) => n.name)).toEqual(['child-kept', 'child-last']);
    for (const node of nodes) expect(node, node.name).toEqual((await single(node.id)).workspace);
  });

  it('reads the relations asked through inline fragments and aliases, and none that are not asked', async () => {
    statements.length = 0;
    const r = await gql<{ workspaces: { edges: Array<{ node: { keys?: string[]; up?: { name: string } | null } }> } }>(
      `{ workspaces(first: 2) { edges { node { ... on Workspace { keys: secretKeys up: parent { name } } } } } }`,
    );
    expect(statements).toEqual(['listWorkspaces']);
    expect(r.workspaces.edges.map((e) => e.node)).toEqual([
      { keys: ['ALPHA', 'ZED'], up: null },
      { keys: [], up: { name: 'root' } },
    ]);
    // Without relations in the query, the list reads none; nested lists below the page still batch.
    statements.length = 0;
    await gql(`{ workspaces(first: 5) { edges { node { id children { tokens { id } } } } } }`);
    expect(statements).toEqual(['listWorkspaces', 'listLiveTokens']);
  });
});
