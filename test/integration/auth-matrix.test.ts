// Every operation of API.md against every kind of credential ("Who may do what", "Rules the contract
// fixes"). Allowed means: no UNAUTHENTICATED/FORBIDDEN error (the answer itself may be a typed error,
// because mutations target an unknown id so the matrix changes nothing).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';
import { connectWs, type Collected } from '../support/subscriptions.js';
import { heartbeatBody } from '../support/registry-fixtures.js';
import { DeleteWorkspaceDocument, RevokeOrgTokenDocument, RevokeWorkspaceTokenDocument } from '../generated/graphql.js';
import { run } from '../graphql/client.js';
import { createExternal, mintWorkspaceToken, UNKNOWN_UUID } from '../graphql/fixtures.js';

type Cred = 'admin' | 'org' | 'readonly' | 'own' | 'anonymous';
const ALL: Cred[] = ['admin', 'org', 'readonly', 'own', 'anonymous'];

interface Op {
  name: string;
  query: string;
  /** `target` is the caller's own workspace for a workspace token, an unknown id otherwise. */
  vars: (target: string, other: string) => Record<string, unknown>;
  allowed: Cred[];
}

/** Every query an org token may make, a read-only org token may make too. */
const readers: Cred[] = ['admin', 'org', 'readonly'];
/** Mutations, logs and subsystems: not for a read-only org token. */
const staff: Cred[] = ['admin', 'org'];
const OPS: Op[] = [
  { name: 'viewer', query: '{ viewer { kind } }', vars: () => ({}), allowed: ALL },
  { name: 'serverTime', query: '{ serverTime }', vars: () => ({}), allowed: ALL },
  { name: 'workspace(own)', query: 'query($id: ID!) { workspace(id: $id) { id } }', vars: (t) => ({ id: t }), allowed: [...readers, 'own'] },
  { name: 'workspace(other)', query: 'query($id: ID!) { workspace(id: $id) { id } }', vars: (_t, o) => ({ id: o }), allowed: readers },
  // A workspace token asks for its own workspace's logs; every other credential for an existing one.
  {
    name: 'workspace.logs',
    query: 'query($id: ID!) { workspace(id: $id) { logs } }',
    vars: (t, o) => ({ id: t === UNKNOWN_UUID ? o : t }),
    allowed: staff,
  },
  {
    name: 'workspace(own).allowedActions/childCount',
    query: 'query($id: ID!) { workspace(id: $id) { allowedActions childCount } }',
    vars: (t) => ({ id: t }),
    allowed: [...readers, 'own'],
  },
  { name: 'workspaces', query: '{ workspaces { totalCount } }', vars: () => ({}), allowed: readers },
  { name: 'workspaceCounts', query: '{ workspaceCounts { status count } }', vars: () => ({}), allowed: readers },
  { name: 'node', query: 'query($id: ID!) { node(id: $id) { id } }', vars: (_t, o) => ({ id: o }), allowed: [...readers, 'own'] },
  { name: 'nodes', query: 'query($id: ID!) { nodes(ids: [$id]) { id } }', vars: (_t, o) => ({ id: o }), allowed: [...readers, 'own'] },
  { name: 'events', query: '{ events { edges { cursor } } }', vars: () => ({}), allowed: [...readers, 'own'] },
  { name: 'events(own)', query: 'query($id: ID) { events(workspaceId: $id) { edges { cursor } } }', vars: (t) => ({ id: t }), allowed: [...readers, 'own'] },
  { name: 'events(other)', query: 'query($id: ID) { events(workspaceId: $id) { edges { cursor } } }', vars: (_t, o) => ({ id: o }), allowed: readers },
  { name: 'eventCursor', query: '{ eventCursor }', vars: () => ({}), allowed: [...readers, 'own'] },
  { name: 'orgTokens', query: '{ orgTokens { id } }', vars: () => ({}), allowed: ['admin'] },
  { name: 'subsystems', query: '{ subsystems { name } }', vars: () => ({}), allowed: staff },
  // "platform answers the admin and every org token" (API.md Outages), read-only ones included.
  { name: 'platform', query: '{ platform { deploymentId } }', vars: () => ({}), allowed: readers },
  { name: 'workspace(other).tokens/secretKeys', query: 'query($id: ID!) { workspace(id: $id) { tokens { id } secretKeys } }', vars: (_t, o) => ({ id: o }), allowed: readers },
  { name: 'createWorkspace', query: 'mutation { createWorkspace(input: { name: "" }) { __typename } }', vars: () => ({}), allowed: staff },
  { name: 'updateWorkspace', query: 'mutation($id: ID!) { updateWorkspace(id: $id, input: {}) { __typename } }', vars: (t) => ({ id: t }), allowed: staff },
  { name: 'deleteWorkspace', query: 'mutation($id: ID!) { deleteWorkspace(id: $id) { __typename } }', vars: (t) => ({ id: t }), allowed: staff },
  { name: 'restartWorkspace', query: 'mutation($id: ID!) { restartWorkspace(id: $id) { __typename } }', vars: (t) => ({ id: t }), allowed: staff },
  { name: 'pauseWorkspace', query: 'mutation($id: ID!) { pauseWorkspace(id: $id) { __typename } }', vars: (t) => ({ id: t }), allowed: staff },
  { name: 'resumeWorkspace', query: 'mutation($id: ID!) { resumeWorkspace(id: $id) { __typename } }', vars: (t) => ({ id: t }), allowed: staff },
  { name: 'hibernateWorkspace', query: 'mutation($id: ID!) { hibernateWorkspace(id: $id) { __typename } }', vars: (t) => ({ id: t }), allowed: staff },
  { name: 'createWorkspaceToken', query: 'mutation($id: ID!) { createWorkspaceToken(workspaceId: $id) { __typename } }', vars: (t) => ({ id: t }), allowed: staff },
  {
    name: 'revokeWorkspaceToken',
    query: 'mutation($id: ID!, $t: ID!) { revokeWorkspaceToken(workspaceId: $id, tokenId: $t) { __typename } }',
    vars: (t) => ({ id: t, t: UNKNOWN_UUID }),
    allowed: staff,
  },
  { name: 'createOrgToken', query: 'mutation($n: String) { createOrgToken(name: $n) { __typename } }', vars: () => ({ n: 'x'.repeat(101) }), allowed: ['admin'] },
  { name: 'revokeOrgToken', query: 'mutation { revokeOrgToken(id: "00000000-0000-4000-8000-000000000000") { __typename } }', vars: () => ({}), allowed: ['admin'] },
  {
    name: 'setWorkspaceSecret',
    query: 'mutation($id: ID!) { setWorkspaceSecret(workspaceId: $id, key: "K", value: "v") { __typename } }',
    vars: (t) => ({ id: t }),
    allowed: staff,
  },
  {
    name: 'deleteWorkspaceSecret',
    query: 'mutation($id: ID!) { deleteWorkspaceSecret(workspaceId: $id, key: "K") { __typename } }',
    vars: (t) => ({ id: t }),
    allowed: staff,
  },
];

describe('auth matrix', () => {
  let s: TestServer;
  const tokens: Record<Cred, string | null> = { admin: TEST_ADMIN_TOKEN, org: null, readonly: null, own: null, anonymous: null };
  let own = '';
  let other = '';
  const rejected: Record<string, string> = {};

  beforeAll(async () => {
    s = await startTestServer();
    const mine = await createExternal(s);
    own = mine.workspace.id;
    tokens.own = mine.token;
    other = (await createExternal(s)).workspace.id;
    // A child, so that workspaceStatusChanged(parentId: other) has something to replay.
    await createExternal(s, { parentId: other });
    const org = await s.gql('mutation { createOrgToken(name: "matrix") { ... on CreateOrgTokenSuccess { token } } }');
    tokens.org = org.data.createOrgToken.token;
    const readonly = await s.gql('mutation { createOrgToken(name: "wall", readOnly: true) { ... on CreateOrgTokenSuccess { token } } }');
    tokens.readonly = readonly.data.createOrgToken.token;

    // Three credentials that must be rejected identically.
    const revoked = await mintWorkspaceToken(s, other);
    await run(s, RevokeWorkspaceTokenDocument, { workspaceId: other, tokenId: revoked.tokenId });
    rejected.revokedWorkspaceToken = revoked.token;
    const doomed = await createExternal(s);
    await run(s, DeleteWorkspaceDocument, { id: doomed.workspace.id });
    rejected.removedWorkspaceToken = doomed.token;
    const revokedOrg = await s.gql('mutation { createOrgToken(name: "gone") { ... on CreateOrgTokenSuccess { token orgToken { id } } } }');
    await run(s, RevokeOrgTokenDocument, { id: revokedOrg.data.createOrgToken.orgToken.id });
    rejected.revokedOrgToken = revokedOrg.data.createOrgToken.token;
    rejected.unknownToken = 'A'.repeat(43);
    rejected.adminTokenWithSuffix = `${TEST_ADMIN_TOKEN}x`;
  });
  afterAll(async () => {
    await s?.stop();
  });

  for (const op of OPS) {
    for (const cred of ALL) {
      const allowed = op.allowed.includes(cred);
      it(`${op.name} with ${cred}: ${allowed ? 'allowed' : cred === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN'}`, async () => {
        const target = cred === 'own' ? own : UNKNOWN_UUID;
        const r = await s.gql(op.query, op.vars(target, other), tokens[cred]);
        const codes = (r.errors ?? []).map((e) => e.extensions?.code);
        if (allowed) {
          expect(codes).not.toContain('UNAUTHENTICATED');
          expect(codes).not.toContain('FORBIDDEN');
          expect(r.status).toBeLessThan(500);
        } else {
          expect(codes).toContain(cred === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN');
        }
      });
    }
  }

  it('shows a workspace token its own workspace with no parent and no children', async () => {
    const child = await createExternal(s, { parentId: own });
    const parent = (await createExternal(s)).workspace;
    await s.gql('mutation($id: ID!, $p: ID!) { updateWorkspace(id: $id, input: { parentId: $p }) { __typename } }', { id: own, p: parent.id });
    const asAdmin = await s.gql('query($id: ID!) { workspace(id: $id) { parent { id } children { id } } }', { id: own });
    expect(asAdmin.data.workspace).toEqual({ parent: { id: parent.id }, children: [{ id: child.workspace.id }] });
    const asSelf = await s.gql('query($id: ID!) { workspace(id: $id) { id parent { id } children { id } } }', { id: own }, tokens.own);
    expect(asSelf.data.workspace).toEqual({ id: own, parent: null, children: [] });
  });

  it('answers FORBIDDEN to a workspace token asking for an unknown or non-UUID workspace id', async () => {
    for (const id of [UNKNOWN_UUID, 'not-a-uuid']) {
      const r = await s.gql('query($id: ID!) { workspace(id: $id) { id } }', { id }, tokens.own);
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('rejects unknown, revoked, removed-workspace and malformed credentials with one identical 401', async () => {
    const bodies = new Set<string>();
    for (const [label, token] of Object.entries(rejected)) {
      for (const query of ['{ viewer { kind } }', 'mutation { createWorkspace(input: { name: "x" }) { __typename } }']) {
        const res = await s.http('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query }),
        });
        expect(res.status, label).toBe(401);
        const body = (await res.json()) as { errors: Array<{ extensions: { code: string } }>; data?: unknown };
        expect(body.errors, label).toHaveLength(1);
        expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
        bodies.add(JSON.stringify(body));
      }
    }
    for (const header of ['bearer x', 'Bearer', 'Bearer  two-spaces', 'Basic abc', `Token ${TEST_ADMIN_TOKEN}`]) {
      const res = await s.http('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: header },
        body: JSON.stringify({ query: '{ viewer { kind } }' }),
      });
      expect(res.status, header).toBe(401);
      bodies.add(JSON.stringify(await res.json()));
    }
    expect(bodies.size).toBe(1);
  });

  // Subscriptions (over graphql-ws), the same table: allowed means the subscription delivers (a replay
  // from "0", an activity push after a heartbeat) or, for workspaceLogs with no runtime, completes
  // cleanly; refused means its first answer is the error.
  interface SubOp {
    name: string;
    query: string;
    vars: (target: string, other: string) => Record<string, unknown>;
    allowed: Cred[];
    /** What makes an allowed subscription deliver, once it is registered. */
    trigger?: () => Promise<void>;
    /** Allowed and expected to complete with nothing (no runtime). */
    completes?: boolean;
  }
  const SUB_OPS: SubOp[] = [
    { name: 'workspaceStatusChanged', query: 'subscription { workspaceStatusChanged(afterEventId: "0") { event { id } } }', vars: () => ({}), allowed: [...readers, 'own'] },
    {
      name: 'workspaceStatusChanged(other)',
      query: 'subscription($id: ID) { workspaceStatusChanged(workspaceId: $id, afterEventId: "0") { event { id } } }',
      vars: (_t, o) => ({ id: o }),
      allowed: readers,
    },
    {
      name: 'workspaceStatusChanged(parentId)',
      query: 'subscription($id: ID) { workspaceStatusChanged(parentId: $id, afterEventId: "0") { event { id } } }',
      vars: (_t, o) => ({ id: o }),
      allowed: readers,
    },
    { name: 'workspaceEvents(own)', query: 'subscription($id: ID) { workspaceEvents(workspaceId: $id, afterEventId: "0") { id } }', vars: (t, o) => ({ id: t === UNKNOWN_UUID ? o : t }), allowed: [...readers, 'own'] },
    { name: 'workspaceEvents(other)', query: 'subscription($id: ID) { workspaceEvents(workspaceId: $id, afterEventId: "0") { id } }', vars: (_t, o) => ({ id: o }), allowed: readers },
    {
      name: 'workspaceActivity(own)',
      query: 'subscription($id: ID) { workspaceActivity(workspaceId: $id) { id activeTasks } }',
      vars: () => ({ id: own }),
      allowed: [...readers, 'own'],
      trigger: () => beat(own, tokens.own!),
    },
    {
      name: 'workspaceActivity(other)',
      query: 'subscription($id: ID) { workspaceActivity(workspaceId: $id) { id } }',
      vars: (_t, o) => ({ id: o }),
      allowed: readers,
      trigger: async () => beat(other, (otherToken ??= (await mintWorkspaceToken(s, other)).token)),
    },
    { name: 'workspaceLogs', query: 'subscription($id: ID!) { workspaceLogs(workspaceId: $id) { text } }', vars: (_t, o) => ({ id: o }), allowed: staff, completes: true },
  ];
  let otherToken: string | undefined;
  let beats = 0;
  /** A heartbeat that changes what the workspace reports (its active tasks). */
  async function beat(id: string, token: string): Promise<void> {
    const res = await s.http('/registry/heartbeat', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(heartbeatBody(id, { active_tasks: ++beats })),
    });
    expect(res.status).toBe(200);
  }

  for (const op of SUB_OPS) {
    for (const cred of ALL) {
      const allowed = op.allowed.includes(cred);
      it(`subscription ${op.name} with ${cred}: ${allowed ? 'allowed' : cred === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN'}`, async () => {
        const client = connectWs(s, tokens[cred]);
        try {
          const target = cred === 'own' ? own : UNKNOWN_UUID;
          const { collected } = client.subscribe(op.query, op.vars(target, other));
          const settled = (c: Collected) => c.done || c.results.length > 0;
          if (allowed && op.trigger) {
            // Live only: keep changing what the agent reports until a push arrives.
            const deadline = Date.now() + 10_000;
            while (!settled(collected) && Date.now() < deadline) {
              await op.trigger();
              await collected.until(settled, 1_200).catch(() => undefined);
            }
          }
          await collected.until(settled);
          if (!allowed) {
            expect(collected.errorCode()).toBe(cred === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN');
          } else if (op.completes) {
            expect(collected.error).toBeNull();
            expect(collected.results).toEqual([]);
          } else {
            expect(collected.results[0]?.errors, JSON.stringify(collected.results[0])).toBeUndefined();
            expect(collected.results[0]?.data).toBeTruthy();
          }
        } finally {
          await client.dispose();
        }
      });
    }
  }
});
