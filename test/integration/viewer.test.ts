import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';

describe('viewer', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('answers ANONYMOUS without a credential', async () => {
    const r = await s.gql('{ viewer { kind workspaceId orgTokenId } }', {}, null);
    expect(r.status).toBe(200);
    expect(r.data.viewer).toEqual({ kind: 'ANONYMOUS', workspaceId: null, orgTokenId: null });
  });

  it('answers ADMIN for the admin token', async () => {
    const r = await s.gql('{ viewer { kind } }', {}, TEST_ADMIN_TOKEN);
    expect(r.data.viewer.kind).toBe('ADMIN');
  });

  it('rejects an unknown credential with one 401 UNAUTHENTICATED error', async () => {
    const r = await s.gql('{ viewer { kind } }', {}, 'not-a-real-token');
    expect(r.status).toBe(401);
    expect(r.errors).toHaveLength(1);
    expect(r.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('rejects a header that is not exactly "Bearer <token>"', async () => {
    const res = await s.http('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `bearer ${TEST_ADMIN_TOKEN}` },
      body: JSON.stringify({ query: '{ viewer { kind } }' }),
    });
    expect(res.status).toBe(401);
  });
});
