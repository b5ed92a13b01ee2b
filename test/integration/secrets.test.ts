import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { DeleteWorkspaceDocument, DeleteWorkspaceSecretDocument, EventsDocument, SetWorkspaceSecretDocument } from '../generated/graphql.js';
import { run } from '../graphql/client.js';
import { createExternal, UNKNOWN_UUID } from '../graphql/fixtures.js';

describe('workspace secrets', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  const set = async (workspaceId: string, key: string, value: string) =>
    (await run(s, SetWorkspaceSecretDocument, { workspaceId, key, value })).data.setWorkspaceSecret;

  it('sets, replaces and lists keys sorted; values are encrypted at rest and decrypt for provisioning', async () => {
    const { workspace } = await createExternal(s);
    expect(await set(workspace.id, 'ZED', 'first')).toMatchObject({ __typename: 'SetWorkspaceSecretSuccess', workspace: { secretKeys: ['ZED'] } });
    expect(await set(workspace.id, 'ALPHA', 'ünïcødé ✓')).toMatchObject({ workspace: { secretKeys: ['ALPHA', 'ZED'] } });
    expect(await set(workspace.id, 'ZED', 'second')).toMatchObject({ workspace: { secretKeys: ['ALPHA', 'ZED'] } });
    const rows = await s.db.pool.query('SELECT key, ciphertext, iv, auth_tag FROM workspace_secrets WHERE workspace_id = $1', [workspace.id]);
    for (const r of rows.rows) {
      expect(Buffer.from(r.ciphertext).toString('utf8')).not.toMatch(/second|ünïcødé/);
      expect(Buffer.from(r.iv)).toHaveLength(12);
      expect(Buffer.from(r.auth_tag)).toHaveLength(16);
    }
    expect(await s.services.secrets.decryptAll(workspace.id)).toEqual({ ALPHA: 'ünïcødé ✓', ZED: 'second' });
    const types = (await run(s, EventsDocument, { workspaceId: workspace.id })).data.events.edges.map((e) => e.node);
    expect(types[0]).toMatchObject({ type: 'SECRET_SET', payload: { key: 'ZED' } });
    expect(JSON.stringify(types)).not.toContain('second');
  });

  it('refuses a ciphertext moved to another key (the key is authenticated data)', async () => {
    const { workspace } = await createExternal(s);
    await set(workspace.id, 'A', 'alpha');
    await set(workspace.id, 'B', 'beta');
    await s.db.pool.query(
      `UPDATE workspace_secrets b SET ciphertext = a.ciphertext, iv = a.iv, auth_tag = a.auth_tag
         FROM workspace_secrets a WHERE a.workspace_id = b.workspace_id AND a.key = 'A' AND b.key = 'B' AND b.workspace_id = $1`,
      [workspace.id],
    );
    await expect(s.services.secrets.decryptAll(workspace.id)).rejects.toThrow();
  });

  it('deletes a secret; deleting an unknown key is NotFoundError', async () => {
    const { workspace } = await createExternal(s);
    await set(workspace.id, 'GONE', 'v');
    const r = await run(s, DeleteWorkspaceSecretDocument, { workspaceId: workspace.id, key: 'GONE' });
    expect(r.data.deleteWorkspaceSecret).toMatchObject({ __typename: 'DeleteWorkspaceSecretSuccess', workspace: { secretKeys: [] } });
    const again = await run(s, DeleteWorkspaceSecretDocument, { workspaceId: workspace.id, key: 'GONE' });
    expect(again.data.deleteWorkspaceSecret.__typename).toBe('NotFoundError');
  });

  it('answers NotFoundError for an unknown, non-UUID or REMOVED workspace', async () => {
    const { workspace } = await createExternal(s);
    await run(s, DeleteWorkspaceDocument, { id: workspace.id });
    for (const id of [UNKNOWN_UUID, 'x', workspace.id]) {
      expect((await set(id, 'K', 'v')).__typename).toBe('NotFoundError');
      expect((await run(s, DeleteWorkspaceSecretDocument, { workspaceId: id, key: 'K' })).data.deleteWorkspaceSecret.__typename).toBe('NotFoundError');
    }
  });

  it.each([
    ['', 'key'],
    ['1ABC', 'key'],
    ['A B', 'key'],
    ['A'.repeat(129), 'key'],
    ['WORKSPACE_ID', 'key'],
    ['PLATFORM_URL', 'key'],
    ['WORKSPACE_CONFIG_PATH', 'key'],
    ['TIER', 'key'],
    ['HEARTBEAT_INTERVAL_S', 'key'],
    ['MOLECULE_ANYTHING', 'key'],
  ])('refuses key %j with InvalidInputError naming %s (checked before existence)', async (key, field) => {
    const r = await set(UNKNOWN_UUID, key, 'v');
    expect(r).toMatchObject({ __typename: 'InvalidInputError', fieldErrors: [{ field }] });
  });

  it('refuses a value over 64 KiB (UTF-8 bytes) and accepts exactly 64 KiB', async () => {
    const { workspace } = await createExternal(s);
    expect((await set(workspace.id, 'BIG', 'é'.repeat(32 * 1024 + 1))).__typename).toBe('InvalidInputError');
    expect((await set(workspace.id, 'BIG', 'x'.repeat(64 * 1024))).__typename).toBe('SetWorkspaceSecretSuccess');
  });

  it('refuses the 101st secret and more than 256 KiB of values per workspace, changing nothing', async () => {
    const { workspace } = await createExternal(s);
    const secrets = Array.from({ length: 100 }, (_, i) => ({ key: `K${i}`, value: 'v' }));
    await s.services.secrets.set(workspace.id, 'K0', 'v');
    for (const sec of secrets.slice(1)) await s.services.secrets.set(workspace.id, sec.key, sec.value);
    expect(await set(workspace.id, 'ONE_MORE', 'v')).toMatchObject({ __typename: 'InvalidInputError', fieldErrors: [{ field: 'key' }] });
    expect((await set(workspace.id, 'K5', 'replaced')).__typename).toBe('SetWorkspaceSecretSuccess');

    const big = (await createExternal(s)).workspace;
    for (let i = 0; i < 4; i++) expect((await set(big.id, `B${i}`, 'x'.repeat(64 * 1024))).__typename).toBe('SetWorkspaceSecretSuccess');
    expect(await set(big.id, 'B4', 'x')).toMatchObject({ __typename: 'InvalidInputError', fieldErrors: [{ field: 'value' }] });
    expect(Object.keys(await s.services.secrets.decryptAll(big.id))).toEqual(['B0', 'B1', 'B2', 'B3']);
  });
});
