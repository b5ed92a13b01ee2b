// API.md's lifecycle rules on a server with no container runtime ('none'): the order of checks, the
// status rules and their typed errors, what a refused mutation leaves (nothing), and that container
// workspaces go FAILED instead of waiting for a runtime that is not there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedOrgToken } from '../support/registry-fixtures.js';
import {
  HIBERNATE,
  PAUSE,
  RESTART,
  RESUME,
  createWorkspace,
  eventsOf,
  eventually,
  forceStatus,
  lastEventId,
  row,
  viewerKind,
} from '../support/lifecycle-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe('lifecycle rules without a container runtime', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ CONTAINER_RUNTIME: 'none' });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('creates a container workspace as PROVISIONING, then FAILED saying no runtime is reachable', async () => {
    const { id } = await createWorkspace(s);
    const failed = await eventually(async () => {
      const r = await row(s, id);
      return r.status === 'FAILED' ? r : undefined;
    });
    expect(failed.last_sample_error).toBe('no container runtime is reachable');
    const types = (await eventsOf(s, id)).map((e) => `${e.type}:${e.previous_status}`);
    expect(types).toEqual(['WORKSPACE_PROVISIONING:null', 'WORKSPACE_FAILED:PROVISIONING']);
  });

  it('answers RuntimeUnavailableError to a restart that passes every status rule, and writes nothing', async () => {
    const { id } = await createWorkspace(s);
    await eventually(async () => ((await row(s, id)).status === 'FAILED' ? true : undefined));
    const before = await lastEventId(s);
    const r = await s.gql(RESTART, { id });
    expect(r.data.restartWorkspace.__typename).toBe('RuntimeUnavailableError');
    expect(await eventsOf(s, id, before)).toEqual([]);
    expect((await row(s, id)).status).toBe('FAILED');
  });

  it('answers NotFoundError for an unknown id, a non-UUID and a REMOVED workspace before asking the runtime', async () => {
    const { id } = await createWorkspace(s, { runtime: 'external' });
    await forceStatus(s, id, 'REMOVED');
    for (const target of [UNKNOWN, 'not-a-uuid', id]) {
      for (const doc of [RESTART, PAUSE, RESUME, HIBERNATE]) {
        const r = await s.gql(doc, { id: target });
        const result = Object.values(r.data)[0] as { __typename: string };
        expect(result.__typename).toBe('NotFoundError');
      }
    }
  });

  it('refuses to restart a PAUSED workspace with ConflictError, before the runtime check', async () => {
    const { id } = await createWorkspace(s);
    await forceStatus(s, id, 'PAUSED');
    const r = await s.gql(RESTART, { id });
    expect(r.data.restartWorkspace.__typename).toBe('ConflictError');
  });

  it('answers ParentPausedError naming the paused ancestor for a restart under it', async () => {
    const root = await createWorkspace(s, { runtime: 'external' });
    const mid = await createWorkspace(s, { runtime: 'external', parentId: root.id });
    const leaf = await createWorkspace(s, { parentId: mid.id });
    await forceStatus(s, root.id, 'PAUSED');
    const r = await s.gql(RESTART, { id: leaf.id });
    expect(r.data.restartWorkspace).toMatchObject({ __typename: 'ParentPausedError', parent: { id: root.id } });
  });

  it('refuses to restart an external workspace with ConflictError', async () => {
    const { id } = await createWorkspace(s, { runtime: 'external' });
    const before = await lastEventId(s);
    const r = await s.gql(RESTART, { id });
    expect(r.data.restartWorkspace.__typename).toBe('ConflictError');
    expect(await eventsOf(s, id, before)).toEqual([]);
  });

  it('pauses an external subtree without a runtime, cascading to every descendant', async () => {
    const root = await createWorkspace(s, { runtime: 'external' });
    const child = await createWorkspace(s, { runtime: 'external', parentId: root.id });
    const grandchild = await createWorkspace(s, { runtime: 'external', parentId: child.id });
    const r = await s.gql(PAUSE, { id: root.id });
    expect(r.data.pauseWorkspace).toMatchObject({ __typename: 'PauseWorkspaceSuccess', pausedCount: 3, workspace: { status: 'PAUSED' } });
    for (const w of [root, child, grandchild]) expect((await row(s, w.id)).status).toBe('PAUSED');
    const again = await s.gql(PAUSE, { id: root.id });
    expect(again.data.pauseWorkspace.__typename).toBe('ConflictError');
  });

  it('answers RuntimeUnavailableError to a pause whose subtree holds a container workspace, pausing nothing', async () => {
    const root = await createWorkspace(s, { runtime: 'external' });
    const child = await createWorkspace(s, { parentId: root.id });
    const r = await s.gql(PAUSE, { id: root.id });
    expect(r.data.pauseWorkspace.__typename).toBe('RuntimeUnavailableError');
    expect((await row(s, root.id)).status).toBe('AWAITING_AGENT');
    expect((await row(s, child.id)).status).not.toBe('PAUSED');
  });

  it('resumes a paused external workspace to AWAITING_AGENT and keeps its token', async () => {
    const { id, token } = await createWorkspace(s, { runtime: 'external' });
    expect((await s.gql(PAUSE, { id })).data.pauseWorkspace.__typename).toBe('PauseWorkspaceSuccess');
    const r = await s.gql(RESUME, { id });
    expect(r.data.resumeWorkspace).toMatchObject({ resumedCount: 1, workspace: { status: 'AWAITING_AGENT' } });
    expect(await viewerKind(s, token!)).toBe('WORKSPACE');
  });

  it('refuses to resume a workspace that is neither PAUSED nor HIBERNATED', async () => {
    const { id } = await createWorkspace(s, { runtime: 'external' });
    const r = await s.gql(RESUME, { id });
    expect(r.data.resumeWorkspace.__typename).toBe('ConflictError');
  });

  it('answers ParentPausedError to resuming a paused child under a paused parent', async () => {
    const root = await createWorkspace(s, { runtime: 'external' });
    const child = await createWorkspace(s, { runtime: 'external', parentId: root.id });
    await s.gql(PAUSE, { id: root.id });
    const r = await s.gql(RESUME, { id: child.id });
    expect(r.data.resumeWorkspace).toMatchObject({ __typename: 'ParentPausedError', parent: { id: root.id } });
  });

  it('refuses to hibernate an external workspace with ConflictError even when it has active tasks', async () => {
    const { id } = await createWorkspace(s, { runtime: 'external' });
    await forceStatus(s, id, 'ONLINE', { activeTasks: 3 });
    const r = await s.gql(HIBERNATE, { id });
    expect(r.data.hibernateWorkspace.__typename).toBe('ConflictError');
  });

  it('answers ActiveTasksError unless forced, then RuntimeUnavailableError when forced', async () => {
    const { id } = await createWorkspace(s);
    await eventually(async () => ((await row(s, id)).status === 'FAILED' ? true : undefined));
    await forceStatus(s, id, 'ONLINE', { activeTasks: 2 });
    const refused = await s.gql(HIBERNATE, { id });
    expect(refused.data.hibernateWorkspace).toMatchObject({ __typename: 'ActiveTasksError', activeTasks: 2 });
    const forced = await s.gql(HIBERNATE, { id, force: true });
    expect(forced.data.hibernateWorkspace.__typename).toBe('RuntimeUnavailableError');
    expect((await row(s, id)).status).toBe('ONLINE');
  });

  it('refuses to hibernate a workspace that is not ONLINE or DEGRADED', async () => {
    const { id } = await createWorkspace(s);
    await eventually(async () => ((await row(s, id)).status === 'FAILED' ? true : undefined));
    const r = await s.gql(HIBERNATE, { id });
    expect(r.data.hibernateWorkspace.__typename).toBe('ConflictError');
  });

  it('lets org tokens call lifecycle mutations, refuses workspace tokens (FORBIDDEN) and anonymous callers', async () => {
    const { id, token } = await createWorkspace(s, { runtime: 'external' });
    const org = await seedOrgToken(s);
    expect((await s.gql(PAUSE, { id }, org)).data.pauseWorkspace.__typename).toBe('PauseWorkspaceSuccess');
    const asWorkspace = await s.gql(RESUME, { id }, token);
    expect(asWorkspace.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await s.gql(RESUME, { id }, null);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await row(s, id)).status).toBe('PAUSED');
  });

  it('shows no container and no logs without a runtime, and refuses logs to a workspace token', async () => {
    const { id, token } = await createWorkspace(s, { runtime: 'external' });
    const c = await createWorkspace(s);
    const r = await s.gql(`query($a: ID!, $b: ID!) { a: workspace(id: $a) { container { id } logs } b: workspace(id: $b) { container { id } logs(tail: 5) } }`, { a: id, b: c.id });
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ a: { container: null, logs: null }, b: { container: null, logs: null } });
    const own = await s.gql(`query($id: ID!) { workspace(id: $id) { id logs } }`, { id }, token);
    expect(own.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
