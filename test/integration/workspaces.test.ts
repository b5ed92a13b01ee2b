import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { CreateWorkspaceDocument, EventsDocument, WorkspaceDocument, WorkspacesDocument } from '../generated/graphql.js';
import { run } from '../graphql/client.js';
import { createExternal, createWorkspace, eventually, UNKNOWN_UUID } from '../graphql/fixtures.js';

describe('createWorkspace', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ WORKSPACE_IMAGE: 'base-image:1', WORKSPACE_IMAGE_CLAUDE_CODE: 'claude-image:2' });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('returns a container workspace as committed: PROVISIONING with the documented defaults', async () => {
    const { workspace, token } = await createWorkspace(s, { name: 'Ünïcode wörker ✓' });
    expect(token).toBeNull();
    expect(workspace).toMatchObject({
      name: 'Ünïcode wörker ✓',
      role: null,
      tier: 2,
      runtime: 'langgraph',
      image: 'base-image:1',
      status: 'PROVISIONING',
      parent: null,
      children: [],
      maxConcurrentTasks: 1,
      hibernationIdleMinutes: null,
    });
    expect(workspace.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('then, with no container runtime reachable, moves it to FAILED saying so', async () => {
    const { workspace } = await createWorkspace(s, {});
    const failed = await eventually(async () => {
      const w = (await run(s, WorkspaceDocument, { id: workspace.id })).data.workspace!;
      return w.status === 'FAILED' ? w : undefined;
    });
    expect(failed.lastSampleError).toMatch(/runtime/i);
    const types = (await run(s, EventsDocument, { workspaceId: workspace.id })).data.events.edges.map((e) => e.node);
    expect(types.find((e) => e.type === 'WORKSPACE_FAILED')).toMatchObject({ status: 'FAILED', previousStatus: 'PROVISIONING' });
  });

  it('resolves the image: input.image, then WORKSPACE_IMAGE_<RUNTIME>, then WORKSPACE_IMAGE', async () => {
    expect((await createWorkspace(s, { runtime: 'claude-code' })).workspace.image).toBe('claude-image:2');
    expect((await createWorkspace(s, { runtime: 'claude-code', image: 'mine:3' })).workspace.image).toBe('mine:3');
    expect((await createWorkspace(s, { runtime: 'other' })).workspace.image).toBe('base-image:1');
  });

  it('creates an external workspace AWAITING_AGENT with no image, a stored url and a token shown once', async () => {
    const { workspace, token } = await createExternal(s, { url: 'http://10.1.2.3:8000/agent' });
    expect(workspace).toMatchObject({ status: 'AWAITING_AGENT', image: null, url: 'http://10.1.2.3:8000/agent' });
    const viewer = await s.gql('{ viewer { kind workspaceId } }', {}, token);
    expect(viewer.data.viewer).toEqual({ kind: 'WORKSPACE', workspaceId: workspace.id });
    const events = await run(s, EventsDocument, { workspaceId: workspace.id });
    const types = events.data.events.edges.map((e) => e.node.type);
    expect(types).toEqual(['TOKEN_ISSUED', 'WORKSPACE_AWAITING_AGENT']);
  });

  it('writes a creation event with previousStatus null and type WORKSPACE_<STATUS>', async () => {
    const { workspace } = await createWorkspace(s, {});
    const events = await run(s, EventsDocument, { workspaceId: workspace.id, first: 100 });
    const creation = events.data.events.edges.map((e) => e.node).find((e) => e.type === 'WORKSPACE_PROVISIONING')!;
    expect(creation).toMatchObject({ status: 'PROVISIONING', previousStatus: null, workspaceId: workspace.id });
    expect(events.data.events.edges.at(-1)!.node.id).toBe(creation.id);
  });

  it('stores create-time secrets encrypted and lists only their keys', async () => {
    const { workspace } = await createWorkspace(s, { secrets: [{ key: 'OPENAI_KEY', value: 'sk-plaintext-value' }, { key: 'A', value: '' }] });
    expect(workspace.secretKeys).toEqual(['A', 'OPENAI_KEY']);
    const rows = await s.db.pool.query('SELECT ciphertext FROM workspace_secrets WHERE workspace_id = $1', [workspace.id]);
    expect(rows.rowCount).toBe(2);
    for (const r of rows.rows) expect(Buffer.from(r.ciphertext).toString('utf8')).not.toContain('sk-plaintext');
    expect(await s.services.secrets.decryptAll(workspace.id)).toEqual({ A: '', OPENAI_KEY: 'sk-plaintext-value' });
  });

  it('stores strings exactly as given', async () => {
    const name = '  spaced\u00a0name\u200b ';
    const role = 'réle with tabs? no: "quotes" and emoji 🧪';
    const { workspace } = await createWorkspace(s, { name, role });
    expect(workspace.name).toBe(name);
    expect(workspace.role).toBe(role);
  });

  it('creates a child under a live parent', async () => {
    const parent = (await createExternal(s)).workspace;
    const child = (await createWorkspace(s, { parentId: parent.id, runtime: 'external' })).workspace;
    expect(child.parent).toEqual({ id: parent.id });
    const read = await run(s, WorkspaceDocument, { id: parent.id });
    expect(read.data.workspace!.children).toEqual([{ id: child.id }]);
  });

  it('answers NotFoundError for an unknown, non-UUID or REMOVED parent and creates nothing', async () => {
    const removed = (await createExternal(s)).workspace;
    await s.gql('mutation($id: ID!) { deleteWorkspace(id: $id) { __typename } }', { id: removed.id });
    const before = await run(s, WorkspacesDocument, { includeRemoved: true });
    for (const parentId of [UNKNOWN_UUID, 'not-a-uuid', removed.id]) {
      const r = await run(s, CreateWorkspaceDocument, { input: { name: 'orphan', parentId } });
      expect(r.data.createWorkspace.__typename).toBe('NotFoundError');
    }
    const after = await run(s, WorkspacesDocument, { includeRemoved: true });
    expect(after.data.workspaces.totalCount).toBe(before.data.workspaces.totalCount);
  });

  it('checks validation before existence: a bad name with an unknown parent is InvalidInputError', async () => {
    const r = await run(s, CreateWorkspaceDocument, { input: { name: '', parentId: UNKNOWN_UUID } });
    expect(r.data.createWorkspace.__typename).toBe('InvalidInputError');
  });

  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ['empty name', { name: '' }, 'name'],
    ['256-character name', { name: 'x'.repeat(256) }, 'name'],
    ['name with a newline', { name: 'a\nb' }, 'name'],
    ['name with NUL', { name: 'a\u0000b' }, 'name'],
    ['name with a C1 control', { name: 'a\u0085b' }, 'name'],
    ['name with DEL', { name: 'a\u007fb' }, 'name'],
    ['name with {', { name: 'a{b' }, 'name'],
    ['name with !', { name: 'hey!' }, 'name'],
    ['name with |', { name: 'a|b' }, 'name'],
    ['name with >', { name: 'a>b' }, 'name'],
    ['name with * and &', { name: 'a*&b' }, 'name'],
    ['name with [ ]', { name: '[x]' }, 'name'],
    ['1001-character role', { role: 'r'.repeat(1001) }, 'role'],
    ['role with a tab', { role: 'a\tb' }, 'role'],
    ['upper-case runtime', { runtime: 'LangGraph' }, 'runtime'],
    ['runtime starting with -', { runtime: '-x' }, 'runtime'],
    ['65-character runtime', { runtime: 'a'.repeat(65) }, 'runtime'],
    ['513-character image', { image: 'i'.repeat(513) }, 'image'],
    ['tier 0', { tier: 0 }, 'tier'],
    ['tier 5', { tier: 5 }, 'tier'],
    ['maxConcurrentTasks 0', { maxConcurrentTasks: 0 }, 'maxConcurrentTasks'],
    ['maxConcurrentTasks 1001', { maxConcurrentTasks: 1001 }, 'maxConcurrentTasks'],
    ['hibernationIdleMinutes 0', { hibernationIdleMinutes: 0 }, 'hibernationIdleMinutes'],
    ['hibernationIdleMinutes 525601', { hibernationIdleMinutes: 525_601 }, 'hibernationIdleMinutes'],
    ['ftp url', { url: 'ftp://host/x' }, 'url'],
    ['metadata url', { url: 'http://169.254.169.254/latest' }, 'url'],
    ['secret key with a dash', { secrets: [{ key: 'A-B', value: 'v' }] }, 'secrets[0].key'],
    ['reserved secret key', { secrets: [{ key: 'x', value: 'v' }, { key: 'WORKSPACE_ID', value: 'v' }] }, 'secrets[1].key'],
    ['MOLECULE_ secret key', { secrets: [{ key: 'MOLECULE_TOKEN', value: 'v' }] }, 'secrets[0].key'],
    ['duplicate secret key', { secrets: [{ key: 'K', value: '1' }, { key: 'K', value: '2' }] }, 'secrets[1].key'],
    ['secret value over 64 KiB', { secrets: [{ key: 'BIG', value: 'v'.repeat(64 * 1024 + 1) }] }, 'secrets[0].value'],
    ['101 secrets', { secrets: Array.from({ length: 101 }, (_, i) => ({ key: `K${i}`, value: 'v' })) }, 'secrets'],
    ['over 256 KiB of secrets', { secrets: Array.from({ length: 5 }, (_, i) => ({ key: `K${i}`, value: 'v'.repeat(60_000) })) }, 'secrets'],
  ];
  it.each(invalid)('refuses %s with InvalidInputError naming %s', async (_label, extra, field) => {
    const r = await run(s, CreateWorkspaceDocument, { input: { name: 'valid', ...extra } as never });
    const res = r.data.createWorkspace;
    expect(res.__typename).toBe('InvalidInputError');
    if (res.__typename !== 'InvalidInputError') return;
    expect(res.fieldErrors.map((f) => f.field)).toContain(field);
  });

  it('accepts the boundaries: 255-character name, tier 1 and 4, 1000 tasks, 525600 minutes, 64 KiB secret', async () => {
    const { workspace } = await createWorkspace(s, {
      name: '名'.repeat(255),
      tier: 4,
      maxConcurrentTasks: 1000,
      hibernationIdleMinutes: 525_600,
      secrets: [{ key: '_k9', value: 'v'.repeat(64 * 1024) }],
    });
    expect(workspace).toMatchObject({ tier: 4, maxConcurrentTasks: 1000, hibernationIdleMinutes: 525_600 });
    expect((await createWorkspace(s, { tier: 1, runtime: 'a' })).workspace.tier).toBe(1);
  });
});
