import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { DeleteWorkspaceDocument, EventsDocument, UpdateWorkspaceDocument, WorkspaceDocument } from '../generated/graphql.js';
import { run } from '../graphql/client.js';
import { createExternal, createWorkspace, UNKNOWN_UUID } from '../graphql/fixtures.js';

describe('updateWorkspace', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  const update = async (id: string, input: Record<string, unknown>) => (await run(s, UpdateWorkspaceDocument, { id, input })).data.updateWorkspace;

  it('leaves absent fields unchanged and changes the given ones', async () => {
    const { workspace } = await createExternal(s, { name: 'before', role: 'r', tier: 3, hibernationIdleMinutes: 30 });
    const res = await update(workspace.id, { name: 'after' });
    expect(res.__typename).toBe('UpdateWorkspaceSuccess');
    if (res.__typename !== 'UpdateWorkspaceSuccess') return;
    expect(res.workspace).toMatchObject({ name: 'after', role: 'r', tier: 3, hibernationIdleMinutes: 30, status: 'AWAITING_AGENT' });
    expect(res.needsRestart).toBe(false);
  });

  it('disables hibernation with hibernationIdleMinutes: null and clears the role with role: null', async () => {
    const { workspace } = await createExternal(s, { role: 'r', hibernationIdleMinutes: 30 });
    const res = await update(workspace.id, { hibernationIdleMinutes: null, role: null });
    expect(res).toMatchObject({ workspace: { hibernationIdleMinutes: null, role: null } });
  });

  it('moves a workspace under a parent and back to the root with parentId: null', async () => {
    const parent = (await createExternal(s)).workspace;
    const child = (await createExternal(s)).workspace;
    expect(await update(child.id, { parentId: parent.id })).toMatchObject({ workspace: { parent: { id: parent.id } } });
    expect((await run(s, WorkspaceDocument, { id: parent.id })).data.workspace!.children).toEqual([{ id: child.id }]);
    expect(await update(child.id, { parentId: null })).toMatchObject({ workspace: { parent: null } });
  });

  it('answers ConflictError for a parent that would create a cycle, including itself', async () => {
    const a = (await createExternal(s)).workspace;
    const b = (await createExternal(s, { parentId: a.id })).workspace;
    const c = (await createExternal(s, { parentId: b.id })).workspace;
    expect((await update(a.id, { parentId: c.id })).__typename).toBe('ConflictError');
    expect((await update(a.id, { parentId: a.id })).__typename).toBe('ConflictError');
    expect((await run(s, WorkspaceDocument, { id: a.id })).data.workspace!.parent).toBeNull();
  });

  it('answers ConflictError for a REMOVED parent and NotFoundError for an unknown one', async () => {
    const removed = (await createExternal(s)).workspace;
    await run(s, DeleteWorkspaceDocument, { id: removed.id });
    const w = (await createExternal(s)).workspace;
    expect((await update(w.id, { parentId: removed.id })).__typename).toBe('ConflictError');
    expect((await update(w.id, { parentId: UNKNOWN_UUID })).__typename).toBe('NotFoundError');
    expect((await update(w.id, { parentId: 'nope' })).__typename).toBe('NotFoundError');
  });

  it('answers NotFoundError for an unknown, non-UUID or REMOVED workspace', async () => {
    const removed = (await createExternal(s)).workspace;
    await run(s, DeleteWorkspaceDocument, { id: removed.id });
    for (const id of [UNKNOWN_UUID, 'not-a-uuid', removed.id]) expect((await update(id, { name: 'x' })).__typename).toBe('NotFoundError');
  });

  it('checks validation before existence', async () => {
    expect((await update(UNKNOWN_UUID, { tier: 9 })).__typename).toBe('InvalidInputError');
  });

  it.each([
    [{ name: '' }, 'name'],
    [{ name: null }, 'name'],
    [{ tier: null }, 'tier'],
    [{ tier: 5 }, 'tier'],
    [{ maxConcurrentTasks: null }, 'maxConcurrentTasks'],
    [{ maxConcurrentTasks: 1001 }, 'maxConcurrentTasks'],
    [{ hibernationIdleMinutes: 0 }, 'hibernationIdleMinutes'],
    [{ role: 'x\u0007' }, 'role'],
  ])('refuses %j with InvalidInputError naming %s and changes nothing', async (input, field) => {
    const { workspace } = await createExternal(s, { name: 'keep' });
    const res = await update(workspace.id, input);
    expect(res.__typename).toBe('InvalidInputError');
    if (res.__typename === 'InvalidInputError') expect(res.fieldErrors.map((f) => f.field)).toContain(field);
    expect((await run(s, WorkspaceDocument, { id: workspace.id })).data.workspace!.updatedAt).toBe(workspace.updatedAt);
  });

  it('says needsRestart when the tier of a container workspace changed, not for external or same tier', async () => {
    const container = (await createWorkspace(s, { tier: 2 })).workspace;
    expect(await update(container.id, { tier: 3 })).toMatchObject({ needsRestart: true, workspace: { tier: 3 } });
    expect(await update(container.id, { tier: 3 })).toMatchObject({ needsRestart: false });
    const external = (await createExternal(s, { tier: 2 })).workspace;
    expect(await update(external.id, { tier: 4 })).toMatchObject({ needsRestart: false });
  });

  it('writes a WORKSPACE_UPDATED event listing the changed fields, and no status event', async () => {
    const { workspace } = await createExternal(s, { name: 'n1' });
    await update(workspace.id, { name: 'n2', tier: 2 });
    const events = (await run(s, EventsDocument, { workspaceId: workspace.id })).data.events.edges.map((e) => e.node);
    expect(events[0]).toMatchObject({ type: 'WORKSPACE_UPDATED', status: null, previousStatus: null, payload: { changed: ['name'] } });
    expect(events.filter((e) => e.status !== null)).toHaveLength(1);
  });

  it('never lets two concurrent moves form a cycle', async () => {
    for (let i = 0; i < 5; i++) {
      const a = (await createExternal(s)).workspace;
      const b = (await createExternal(s)).workspace;
      const [r1, r2] = await Promise.all([update(a.id, { parentId: b.id }), update(b.id, { parentId: a.id })]);
      const kinds = [r1.__typename, r2.__typename].sort();
      expect(kinds).toEqual(['ConflictError', 'UpdateWorkspaceSuccess']);
    }
  });
});
