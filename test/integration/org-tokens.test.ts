import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';
import { CreateOrgTokenDocument, OrgTokensDocument, RevokeOrgTokenDocument } from '../generated/graphql.js';
import { run } from '../graphql/client.js';
import { UNKNOWN_UUID } from '../graphql/fixtures.js';

describe('org tokens', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  async function mint(name?: string | null) {
    const r = await run(s, CreateOrgTokenDocument, { name });
    const res = r.data.createOrgToken;
    if (res.__typename !== 'CreateOrgTokenSuccess') throw new Error(JSON.stringify(res));
    return res;
  }

  it('mints a token shown once that acts as ORG_TOKEN, and lists it (no plaintext) newest first', async () => {
    const first = await mint('ci');
    const second = await mint(null);
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.orgToken).toMatchObject({ name: 'ci', prefix: first.token.slice(0, 8), createdBy: 'admin-token' });
    expect(second.orgToken.name).toBeNull();
    const viewer = await s.gql('{ viewer { kind orgTokenId } }', {}, first.token);
    expect(viewer.data.viewer).toEqual({ kind: 'ORG_TOKEN', orgTokenId: first.orgToken.id });
    const list = (await run(s, OrgTokensDocument, {})).data.orgTokens;
    expect(list.map((t) => t.id).slice(0, 2)).toEqual([second.orgToken.id, first.orgToken.id]);
    expect(JSON.stringify(list)).not.toContain(first.token);
  });

  it('refuses a name over 100 characters with InvalidInputError naming name', async () => {
    const r = await run(s, CreateOrgTokenDocument, { name: 'n'.repeat(101) });
    expect(r.data.createOrgToken).toMatchObject({ __typename: 'InvalidInputError', fieldErrors: [{ field: 'name' }] });
    expect((await mint('n'.repeat(100))).orgToken.name).toHaveLength(100);
  });

  it('revokes a token: it is refused at once with 401 and leaves the list; a second revoke is NotFoundError', async () => {
    const t = await mint('short-lived');
    const r = await run(s, RevokeOrgTokenDocument, { id: t.orgToken.id });
    expect(r.data.revokeOrgToken).toMatchObject({ __typename: 'RevokeOrgTokenSuccess', orgToken: { id: t.orgToken.id } });
    expect((await s.gql('{ viewer { kind } }', {}, t.token)).status).toBe(401);
    expect((await run(s, OrgTokensDocument, {})).data.orgTokens.map((x) => x.id)).not.toContain(t.orgToken.id);
    expect((await run(s, RevokeOrgTokenDocument, { id: t.orgToken.id })).data.revokeOrgToken.__typename).toBe('NotFoundError');
    expect((await run(s, RevokeOrgTokenDocument, { id: UNKNOWN_UUID })).data.revokeOrgToken.__typename).toBe('NotFoundError');
    expect((await run(s, RevokeOrgTokenDocument, { id: 'x' })).data.revokeOrgToken.__typename).toBe('NotFoundError');
  });

  it('mints a read-only token on request: readOnly on the token and on its viewer, writable by default', async () => {
    const wall = await s.gql('mutation { createOrgToken(name: "wall", readOnly: true) { ... on CreateOrgTokenSuccess { token orgToken { id readOnly } } } }');
    const { token, orgToken } = wall.data.createOrgToken;
    expect(orgToken.readOnly).toBe(true);
    expect((await s.gql('{ viewer { kind orgTokenId readOnly } }', {}, token)).data.viewer).toEqual({ kind: 'ORG_TOKEN', orgTokenId: orgToken.id, readOnly: true });
    const writable = await mint('ops');
    expect((await s.gql('{ viewer { readOnly } }', {}, writable.token)).data.viewer.readOnly).toBe(false);
    expect((await s.gql('{ orgTokens { id readOnly } }')).data.orgTokens).toEqual(
      expect.arrayContaining([{ id: orgToken.id, readOnly: true }, { id: writable.orgToken.id, readOnly: false }]),
    );
    for (const t of [TEST_ADMIN_TOKEN, null]) expect((await s.gql('{ viewer { readOnly } }', {}, t)).data.viewer.readOnly).toBe(false);
  });

  it('refuses every mutation to a read-only token with FORBIDDEN and changes nothing', async () => {
    const wall = await s.gql('mutation { createOrgToken(readOnly: true) { ... on CreateOrgTokenSuccess { token } } }');
    const token = wall.data.createOrgToken.token as string;
    const before = (await s.gql('{ workspaces(includeRemoved: true) { totalCount } }')).data.workspaces.totalCount;
    const r = await s.gql('mutation { createWorkspace(input: { name: "nope", runtime: "external" }) { __typename } }', {}, token);
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await s.gql('{ workspaces(includeRemoved: true) { totalCount } }')).data.workspaces.totalCount).toBe(before);
    expect((await s.gql('{ workspaces { totalCount } }', {}, token)).errors).toBeUndefined();
  });

  it('forbids an org token from managing org tokens', async () => {
    const t = await mint('staff');
    for (const [doc, vars] of [
      [OrgTokensDocument, {}],
      [CreateOrgTokenDocument, { name: 'x' }],
      [RevokeOrgTokenDocument, { id: t.orgToken.id }],
    ] as const) {
      const r = await run(s, doc as never, vars as never, t.token);
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect((await s.gql('{ viewer { kind } }', {}, t.token)).data.viewer.kind).toBe('ORG_TOKEN');
  });
});

describe('createOrgToken rate limit', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('allows 10 calls an hour per client IP, refused calls included, then answers 429 RATE_LIMITED with Retry-After', async () => {
    const codes: string[] = [];
    for (let i = 0; i < 10; i++) {
      // Invalid calls count too.
      const r = await run(s, CreateOrgTokenDocument, { name: i % 2 ? 'ok' : 'n'.repeat(101) });
      codes.push(r.data.createOrgToken.__typename);
    }
    expect(codes).not.toContain(undefined);
    const res = await s.http('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: JSON.stringify({ query: 'mutation { createOrgToken(name: "x") { __typename } }' }),
    });
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    const body = (await res.json()) as { errors: Array<{ extensions: { code: string; retryAfter: number } }> };
    expect(body.errors[0]!.extensions.code).toBe('RATE_LIMITED');
    expect(body.errors[0]!.extensions.retryAfter).toBe(retryAfter);
    const count = await s.db.pool.query('SELECT count(*)::int AS n FROM org_api_tokens');
    expect(count.rows[0].n).toBe(5);
    // Other operations are unaffected.
    expect((await run(s, OrgTokensDocument, {})).data.orgTokens).toHaveLength(5);
  });
});
