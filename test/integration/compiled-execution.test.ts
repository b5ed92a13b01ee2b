// Queries run compiled once per document (http/graphql-jit.ts): the cache must never hand one
// operation's compiled code to another operation of the same document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';

const DOCUMENT = 'query Kind { viewer { kind } } query Count { workspaces(first: 1) { totalCount } }';

describe('compiled execution', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  const post = async (operationName: string) => {
    const res = await s.http('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: JSON.stringify({ query: DOCUMENT, operationName }),
    });
    return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown>; errors?: Array<{ message: string }> } };
  };

  it('runs the operation each request names when one document holds several, in any order', async () => {
    for (const name of ['Kind', 'Count', 'Kind', 'Count']) {
      const r = await post(name);
      expect(r.status).toBe(200);
      expect(r.body.data).toEqual(name === 'Kind' ? { viewer: { kind: 'ADMIN' } } : { workspaces: { totalCount: 0 } });
    }
  });

  it('answers an operation name the document does not hold with a client error, never a 500', async () => {
    const r = await post('Missing');
    expect(r.status).toBeLessThan(500);
    expect(r.body.data ?? null).toBeNull();
    expect(r.body.errors?.[0]?.message).toMatch(/operation/);
  });
});
