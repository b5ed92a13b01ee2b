// Workspace.allowedActions against the mutations themselves: for every status, both kinds of runtime,
// with and without a PAUSED parent, each action is listed exactly when its mutation's existence and
// status rules accept the workspace (it answers success, or RuntimeUnavailableError: the runtime is
// checked last and allowedActions does not consult it). Active tasks and children never remove an
// action (force and confirm decide). Read-only and workspace tokens get an empty list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_STATUSES } from '../../services/workspaces/record.js';
import { WORKSPACE_ACTIONS, type WorkspaceAction } from '../../services/workspaces/allowed-actions.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createExternal } from '../graphql/fixtures.js';

const MUTATION: Record<WorkspaceAction, string> = {
  RESTART: 'mutation($id: ID!) { r: restartWorkspace(id: $id) { __typename } }',
  PAUSE: 'mutation($id: ID!) { r: pauseWorkspace(id: $id) { __typename } }',
  RESUME: 'mutation($id: ID!) { r: resumeWorkspace(id: $id) { __typename } }',
  HIBERNATE: 'mutation($id: ID!) { r: hibernateWorkspace(id: $id, force: true) { __typename } }',
  DELETE: 'mutation($id: ID!) { r: deleteWorkspace(id: $id, confirm: true) { __typename } }',
};
const ACCEPTED = /Success$|^RuntimeUnavailableError$/;

describe('allowedActions', () => {
  let s: TestServer;
  let pausedParent = '';
  let liveParent = '';

  beforeAll(async () => {
    s = await startTestServer(); // CONTAINER_RUNTIME=none: container operations end at RuntimeUnavailableError
    pausedParent = (await createExternal(s, { name: 'paused-parent' })).workspace.id;
    await s.db.pool.query(`UPDATE workspaces SET status = 'PAUSED' WHERE id = $1`, [pausedParent]);
    liveParent = (await createExternal(s, { name: 'live-parent' })).workspace.id;
  });
  afterAll(async () => {
    await s?.stop();
  });

  /** A fresh row in exactly this state (one per action: every mutation changes it). */
  async function fixture(status: string, runtime: string, parentId: string): Promise<string> {
    const r = await s.db.pool.query<{ id: string }>(
      `INSERT INTO workspaces (name, status, runtime, parent_id, active_tasks, image)
       VALUES ('fixture', $1::workspace_status, $2, $3::uuid, 3, CASE WHEN $2 = 'external' THEN NULL ELSE 'img' END) RETURNING id`,
      [status, runtime, parentId],
    );
    // A child, so DELETE needs confirm (which the mutation passes) and must still be listed.
    await s.db.pool.query(`INSERT INTO workspaces (name, status, runtime, parent_id) VALUES ('child', 'ONLINE', 'external', $1)`, [r.rows[0]!.id]);
    return r.rows[0]!.id;
  }

  for (const status of WORKSPACE_STATUSES) {
    for (const runtime of ['external', 'langgraph']) {
      for (const under of ['live-parent', 'paused-parent'] as const) {
        it(`${status}, ${runtime}, under a ${under}: lists exactly the actions its mutations accept`, async () => {
          const parent = under === 'paused-parent' ? pausedParent : liveParent;
          const listed: string[][] = [];
          const accepted: WorkspaceAction[] = [];
          for (const action of WORKSPACE_ACTIONS) {
            const id = await fixture(status, runtime, parent);
            const q = await s.gql('query($id: ID!) { workspace(id: $id) { allowedActions } }', { id });
            listed.push(q.data.workspace.allowedActions);
            const m = await s.gql(MUTATION[action], { id });
            expect(m.errors, action).toBeUndefined();
            if (ACCEPTED.test(m.data.r.__typename)) accepted.push(action);
          }
          // Every fixture was in the same state, so every read listed the same actions.
          for (const l of listed) expect(l).toEqual(listed[0]);
          expect(listed[0]).toEqual(accepted);
        });
      }
    }
  }

  it('is empty for a read-only org token and for a workspace token, and for REMOVED', async () => {
    const own = await createExternal(s, { name: 'own' });
    await s.db.pool.query(`UPDATE workspaces SET status = 'ONLINE' WHERE id = $1`, [own.workspace.id]);
    const ro = await s.gql('mutation { createOrgToken(readOnly: true) { ... on CreateOrgTokenSuccess { token } } }');
    const org = await s.gql('mutation { createOrgToken { ... on CreateOrgTokenSuccess { token } } }');
    const q = 'query($id: ID!) { workspace(id: $id) { allowedActions } }';
    const vars = { id: own.workspace.id };
    expect((await s.gql(q, vars)).data.workspace.allowedActions).toEqual(['PAUSE', 'DELETE']);
    expect((await s.gql(q, vars, org.data.createOrgToken.token)).data.workspace.allowedActions).toEqual(['PAUSE', 'DELETE']);
    expect((await s.gql(q, vars, ro.data.createOrgToken.token)).data.workspace.allowedActions).toEqual([]);
    expect((await s.gql(q, vars, own.token)).data.workspace.allowedActions).toEqual([]);
  });

  it('answers allowedActions for every workspace of a list (a PAUSED root: RESUME and DELETE)', async () => {
    const r = await s.gql('{ workspaces(first: 100, includeRemoved: true) { edges { node { id status allowedActions } } } }');
    expect(r.errors).toBeUndefined();
    const byId = new Map(r.data.workspaces.edges.map((e: any) => [e.node.id, e.node]));
    expect((byId.get(pausedParent) as any).allowedActions).toEqual(['RESUME', 'DELETE']);
  });
});
