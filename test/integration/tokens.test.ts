import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  CreateWorkspaceTokenDocument,
  DeleteWorkspaceDocument,
  EventsDocument,
  RevokeWorkspaceTokenDocument,
  WorkspaceTokensDocument,
} from '../generated/graphql.js';
import { run } from '../graphql/client.js';
import { createExternal, mintWorkspaceToken, UNKNOWN_UUID } from '../graphql/fixtures.js';

describe('workspace tokens', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('mints a 43-character token shown once, stored only as a hash, and usable at once', async () => {
    const { workspace } = await createExternal(s);
    const r = await run(s, CreateWorkspaceTokenDocument, { workspaceId: workspace.id });
    const res = r.data.createWorkspaceToken;
    if (res.__typename !== 'CreateWorkspaceTokenSuccess') throw new Error(res.__typename);
    expect(res.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.tokenInfo).toMatchObject({ prefix: res.token.slice(0, 8), revokedAt: null });
    const stored = await s.db.pool.query('SELECT token_hash FROM workspace_auth_tokens WHERE id = $1', [res.tokenInfo.id]);
    expect(stored.rows[0].token_hash).not.toContain(res.token);
    expect((await s.gql('{ viewer { kind workspaceId } }', {}, res.token)).data.viewer).toEqual({ kind: 'WORKSPACE', workspaceId: workspace.id });
    const events = (await run(s, EventsDocument, { workspaceId: workspace.id })).data.events.edges.map((e) => e.node);
    expect(events[0]).toMatchObject({ type: 'TOKEN_ISSUED', payload: { tokenId: res.tokenInfo.id, source: 'mutation' } });
  });

  it('lists live tokens newest first, without revoked ones', async () => {
    const { workspace } = await createExternal(s);
    const a = await mintWorkspaceToken(s, workspace.id);
    const b = await mintWorkspaceToken(s, workspace.id);
    await run(s, RevokeWorkspaceTokenDocument, { workspaceId: workspace.id, tokenId: a.tokenId });
    const list = (await run(s, WorkspaceTokensDocument, { id: workspace.id })).data.workspace!.tokens;
    expect(list.map((t) => t.id)[0]).toBe(b.tokenId);
    expect(list.map((t) => t.id)).not.toContain(a.tokenId);
    expect(list).toHaveLength(2); // b and the creation token
  });

  it('revokes a token: refused at once, TOKEN_REVOKED written, a second revoke is NotFoundError', async () => {
    const { workspace } = await createExternal(s);
    const t = await mintWorkspaceToken(s, workspace.id);
    const r = await run(s, RevokeWorkspaceTokenDocument, { workspaceId: workspace.id, tokenId: t.tokenId });
    expect(r.data.revokeWorkspaceToken).toMatchObject({ __typename: 'RevokeWorkspaceTokenSuccess', tokenInfo: { id: t.tokenId } });
    expect((await s.gql('{ viewer { kind } }', {}, t.token)).status).toBe(401);
    const again = await run(s, RevokeWorkspaceTokenDocument, { workspaceId: workspace.id, tokenId: t.tokenId });
    expect(again.data.revokeWorkspaceToken.__typename).toBe('NotFoundError');
    const events = (await run(s, EventsDocument, { workspaceId: workspace.id })).data.events.edges.map((e) => e.node.type);
    expect(events[0]).toBe('TOKEN_REVOKED');
  });

  it('answers NotFoundError for a token of another workspace, and for unknown or non-UUID ids', async () => {
    const a = await createExternal(s);
    const b = await createExternal(s);
    const t = await mintWorkspaceToken(s, a.workspace.id);
    const cases = [
      { workspaceId: b.workspace.id, tokenId: t.tokenId },
      { workspaceId: a.workspace.id, tokenId: UNKNOWN_UUID },
      { workspaceId: 'x', tokenId: t.tokenId },
      { workspaceId: a.workspace.id, tokenId: 'y' },
    ];
    for (const vars of cases) expect((await run(s, RevokeWorkspaceTokenDocument, vars)).data.revokeWorkspaceToken.__typename).toBe('NotFoundError');
    expect((await s.gql('{ viewer { kind } }', {}, t.token)).data.viewer.kind).toBe('WORKSPACE');
  });

  it('answers NotFoundError when minting for an unknown, non-UUID or REMOVED workspace', async () => {
    const { workspace } = await createExternal(s);
    await run(s, DeleteWorkspaceDocument, { id: workspace.id });
    for (const id of [UNKNOWN_UUID, 'nope', workspace.id]) {
      expect((await run(s, CreateWorkspaceTokenDocument, { workspaceId: id })).data.createWorkspaceToken.__typename).toBe('NotFoundError');
    }
  });

  it('allows at most 50 live tokens even under 60 concurrent mints, and frees a slot on revoke', async () => {
    const { workspace } = await createExternal(s); // 1 live token already
    const results = await Promise.all(Array.from({ length: 60 }, () => run(s, CreateWorkspaceTokenDocument, { workspaceId: workspace.id })));
    const kinds = results.map((r) => r.data.createWorkspaceToken.__typename);
    expect(kinds.filter((k) => k === 'CreateWorkspaceTokenSuccess')).toHaveLength(49);
    const refused = results.map((r) => r.data.createWorkspaceToken).find((x) => x.__typename === 'TokenLimitError');
    expect(refused).toMatchObject({ limit: 50 });
    const live = await s.db.pool.query('SELECT count(*)::int AS n FROM workspace_auth_tokens WHERE workspace_id = $1 AND revoked_at IS NULL', [workspace.id]);
    expect(live.rows[0].n).toBe(50);
    const one = results.map((r) => r.data.createWorkspaceToken).find((x) => x.__typename === 'CreateWorkspaceTokenSuccess');
    if (one?.__typename !== 'CreateWorkspaceTokenSuccess') throw new Error('no success');
    await run(s, RevokeWorkspaceTokenDocument, { workspaceId: workspace.id, tokenId: one.tokenInfo.id });
    expect((await run(s, CreateWorkspaceTokenDocument, { workspaceId: workspace.id })).data.createWorkspaceToken.__typename).toBe(
      'CreateWorkspaceTokenSuccess',
    );
  });

  it('validateForWorkspace accepts a live token only for its own workspace', async () => {
    const a = await createExternal(s);
    const b = await createExternal(s);
    expect(await s.services.tokens.validateForWorkspace(a.workspace.id, a.token)).toMatch(/^[0-9a-f-]{36}$/);
    expect(await s.services.tokens.validateForWorkspace(b.workspace.id, a.token)).toBeNull();
    expect(await s.services.tokens.validateForWorkspace('not-a-uuid', a.token)).toBeNull();
    expect(await s.services.tokens.validateForWorkspace(a.workspace.id, '')).toBeNull();
    await run(s, DeleteWorkspaceDocument, { id: a.workspace.id });
    expect(await s.services.tokens.validateForWorkspace(a.workspace.id, a.token)).toBeNull();
  });
});
