import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  CreateWorkspaceDocument,
  DeleteWorkspaceDocument,
  EventsDocument,
  WorkspaceDocument,
  WorkspacesDocument,
  type WorkspacesQueryVariables,
} from '../generated/graphql.js';
import { run } from '../graphql/client.js';
import { createExternal, mintWorkspaceToken, UNKNOWN_UUID } from '../graphql/fixtures.js';

describe('deleteWorkspace', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  const del = async (id: string, confirm?: boolean, purge?: boolean) =>
    (await run(s, DeleteWorkspaceDocument, { id, confirm, purge })).data.deleteWorkspace;

  async function tree() {
    const root = (await createExternal(s)).workspace;
    const child = await createExternal(s, { parentId: root.id });
    const grandchild = await createExternal(s, { parentId: child.workspace.id });
    return { root, child: child.workspace, grandchild: grandchild.workspace, grandchildToken: grandchild.token };
  }

  it('asks for confirmation listing the direct children, and changes nothing', async () => {
    const t = await tree();
    const res = await del(t.root.id);
    expect(res).toMatchObject({ __typename: 'ConfirmationRequiredError', children: [{ id: t.child.id }] });
    expect((await run(s, WorkspaceDocument, { id: t.root.id })).data.workspace!.status).toBe('AWAITING_AGENT');
  });

  it('with confirm writes REMOVED for the whole subtree, revokes its tokens, and keeps the rows readable', async () => {
    const t = await tree();
    expect(await del(t.root.id, true)).toEqual({ __typename: 'DeleteWorkspaceSuccess', removedCount: 3, purged: false });
    for (const id of [t.root.id, t.child.id, t.grandchild.id]) {
      expect((await run(s, WorkspaceDocument, { id })).data.workspace!.status).toBe('REMOVED');
    }
    const live = await s.db.pool.query('SELECT count(*)::int AS n FROM workspace_auth_tokens WHERE workspace_id = $1 AND revoked_at IS NULL', [t.grandchild.id]);
    expect(live.rows[0].n).toBe(0);
    const r = await s.gql('{ viewer { kind } }', {}, t.grandchildToken);
    expect(r.status).toBe(401);
  });

  it('writes one REMOVED event per workspace with its own previous status, and TOKEN_REVOKED events', async () => {
    const t = await tree();
    await del(t.root.id, true);
    const events = (await run(s, EventsDocument, { workspaceId: t.grandchild.id })).data.events.edges.map((e) => e.node);
    const removed = events.filter((e) => e.type === 'WORKSPACE_REMOVED');
    expect(removed).toHaveLength(1);
    expect(removed[0]).toMatchObject({ status: 'REMOVED', previousStatus: 'AWAITING_AGENT' });
    expect(events.some((e) => e.type === 'TOKEN_REVOKED')).toBe(true);
  });

  it('deletes a workspace without children without confirm', async () => {
    const { workspace } = await createExternal(s);
    expect(await del(workspace.id)).toMatchObject({ removedCount: 1, purged: false });
  });

  it('answers NotFoundError for an unknown, non-UUID or already REMOVED workspace', async () => {
    const { workspace } = await createExternal(s);
    await del(workspace.id);
    for (const id of [UNKNOWN_UUID, 'zzz', workspace.id]) expect((await del(id)).__typename).toBe('NotFoundError');
  });

  it('purges a tombstone (subtree rows deleted, events kept)', async () => {
    const t = await tree();
    await del(t.root.id, true);
    expect(await del(t.root.id, false, true)).toEqual({ __typename: 'DeleteWorkspaceSuccess', removedCount: 3, purged: true });
    expect((await run(s, WorkspaceDocument, { id: t.child.id })).data.workspace).toBeNull();
    const events = (await run(s, EventsDocument, { workspaceId: t.child.id })).data.events.edges.map((e) => e.node.type);
    expect(events).toContain('WORKSPACE_REMOVED');
    expect(events[0]).toBe('WORKSPACE_PURGED');
    expect((await del(t.root.id, false, true)).__typename).toBe('NotFoundError');
  });

  it('purges a live workspace in one go (still asking to confirm its children)', async () => {
    const t = await tree();
    expect((await del(t.root.id, false, true)).__typename).toBe('ConfirmationRequiredError');
    expect(await del(t.root.id, true, true)).toEqual({ __typename: 'DeleteWorkspaceSuccess', removedCount: 3, purged: true });
    const rows = await s.db.pool.query('SELECT count(*)::int AS n FROM workspaces WHERE id = ANY($1::uuid[])', [[t.root.id, t.child.id, t.grandchild.id]]);
    expect(rows.rows[0].n).toBe(0);
  });

  it('lists REMOVED rows only with includeRemoved or an explicit REMOVED status filter', async () => {
    const { workspace } = await createExternal(s);
    await del(workspace.id);
    const ids = async (vars: WorkspacesQueryVariables) =>
      (await run(s, WorkspacesDocument, { first: 100, ...vars })).data.workspaces.edges.map((e) => e.node.id);
    expect(await ids({})).not.toContain(workspace.id);
    expect(await ids({ includeRemoved: true })).toContain(workspace.id);
    expect(await ids({ status: ['REMOVED'], includeRemoved: false })).toContain(workspace.id);
    expect(await ids({ status: ['AWAITING_AGENT'], includeRemoved: true })).not.toContain(workspace.id);
  });

  it('never leaves a live child under a REMOVED parent when create races delete', async () => {
    for (let i = 0; i < 5; i++) {
      const parent = (await createExternal(s)).workspace;
      const [created] = await Promise.all([
        run(s, CreateWorkspaceDocument, { input: { name: `racer${i}`, runtime: 'external', parentId: parent.id } }),
        del(parent.id, true),
      ]);
      const res = created.data.createWorkspace;
      if (res.__typename === 'CreateWorkspaceSuccess') {
        expect((await run(s, WorkspaceDocument, { id: res.workspace.id })).data.workspace!.status).toBe('REMOVED');
      } else {
        expect(res.__typename).toBe('NotFoundError');
      }
    }
  });

  it('keeps the workspace token of a sibling working after a delete', async () => {
    const a = await createExternal(s);
    const b = await createExternal(s);
    const extra = await mintWorkspaceToken(s, b.workspace.id);
    await del(a.workspace.id);
    expect((await s.gql('{ viewer { kind } }', {}, extra.token)).data.viewer.kind).toBe('WORKSPACE');
  });
});
