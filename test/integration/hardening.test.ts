import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';

const post = (s: TestServer, body: unknown, headers: Record<string, string> = {}) =>
  s.http('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...headers },
    body: JSON.stringify(body),
  });

describe('GraphQL hardening', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  const nested = (depth: number) => `{ workspace(id: "x") { ${'parent { '.repeat(depth - 2)}id${' }'.repeat(depth - 2)} } }`;
  const aliased = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: viewer { kind }`).join(' ')} }`;

  it('accepts depth 15 and refuses depth 16 with a validation error', async () => {
    expect((await s.gql(nested(15))).errors).toBeUndefined();
    const r = await s.gql(nested(16));
    expect(r.status).toBeLessThan(500);
    expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.data ?? null).toBeNull();
  });

  it('accepts 50 aliases and refuses 51', async () => {
    expect((await s.gql(aliased(50))).errors).toBeUndefined();
    const r = await s.gql(aliased(51));
    expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses a document of more than 5000 tokens before executing it', async () => {
    // 12 tokens of structure plus one per enum value.
    const doc = (values: number) => `{ workspaces(status: [${Array.from({ length: values }, () => 'ONLINE').join(' ')}]) { totalCount } }`;
    expect((await s.gql(doc(4980))).errors).toBeUndefined();
    const r = await s.gql(doc(5000));
    expect(r.status).toBeLessThan(500);
    expect(r.errors?.[0]?.message).toMatch(/token limit/i);
    expect(r.data ?? null).toBeNull();
  });

  it('keeps the usual introspection and a wide legitimate query working (no cost limit surprises)', async () => {
    const intro = await s.gql('{ __schema { types { name fields { name type { name kind ofType { name kind ofType { name kind ofType { name } } } } } } } }');
    expect(intro.errors).toBeUndefined();
    const wide = await s.gql(
      `{ workspaces(first: 100) { totalCount edges { cursor node { id name role tier runtime image status url agentCard activeTasks
         maxConcurrentTasks currentTask lastErrorRate lastSampleError uptimeSeconds lastHeartbeatAt hibernationIdleMinutes secretKeys
         createdAt updatedAt parent { id name } children { id name status } tokens { id prefix createdAt lastUsedAt revokedAt }
         events(first: 20) { edges { cursor node { id type workspaceId status previousStatus payload createdAt } } pageInfo { hasNextPage endCursor } } } }
         pageInfo { hasNextPage endCursor } } eventCursor viewer { kind } }`,
    );
    expect(wide.errors).toBeUndefined();
  });

  it('requires the CSRF header on GET and on form-like bodies, but not on application/json POSTs', async () => {
    const q = encodeURIComponent('{ viewer { kind } }');
    expect((await s.http(`/graphql?query=${q}`)).status).toBe(403);
    const ok = await s.http(`/graphql?query=${q}`, { headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ data: { viewer: { kind: 'ANONYMOUS' } } });
    const form = await s.http('/graphql', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ viewer { kind } }' }) });
    expect(form.status).toBe(403);
    const json = await post(s, { query: '{ viewer { kind } }' });
    expect(json.status).toBe(200);
    const charset = await post(s, { query: '{ viewer { kind } }' }, { 'content-type': 'application/json; charset=utf-8' });
    expect(charset.status).toBe(200);
  });

  it('serves GraphiQL on GET /graphql with Accept text/html, with no CDN or remote asset', async () => {
    const res = await s.http('/graphql', { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toMatch(/graphiql/i);
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=["'](https?:)?\/\//i);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdnjs|esm\.sh/);
  });

  it('sends no CORS headers when CORS_ORIGINS is empty', async () => {
    const res = await post(s, { query: '{ viewer { kind } }' }, { origin: 'http://elsewhere.example' });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('masks an unexpected failure as "Unexpected error." without its cause, and keeps serving', async () => {
    const original = s.services.events.cursor;
    s.services.events.cursor = async () => {
      throw new Error('db password is hunter2');
    };
    try {
      const res = await post(s, { query: '{ eventCursor }' });
      const text = await res.text();
      expect(text).not.toContain('hunter2');
      const body = JSON.parse(text) as { errors: Array<{ message: string; extensions: { code: string } }> };
      expect(body.errors[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    } finally {
      s.services.events.cursor = original;
    }
    expect((await s.gql('{ eventCursor }')).errors).toBeUndefined();
  });

  it.each([
    ['an object for an ID', 'query($i: ID!) { workspace(id: $i) { id } }', { i: { a: 1 } }],
    ['a 64-bit number for an Int', 'query($f: Int) { workspaces(first: $f) { totalCount } }', { f: 2 ** 40 }],
    ['a string for an Int', 'query($f: Int) { workspaces(first: $f) { totalCount } }', { f: 'ten' }],
    ['a missing required variable', 'query($i: ID!) { workspace(id: $i) { id } }', {}],
    ['an unknown enum value', 'query($s: [WorkspaceStatus!]) { workspaces(status: $s) { totalCount } }', { s: ['SLEEPING'] }],
    ['an input object with an unknown field', 'mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { __typename } }', { i: { name: 'x', nope: 1 } }],
  ])('answers %s with a 4xx GraphQL error, never a 500', async (_label, query, variables) => {
    const res = await post(s, { query, variables });
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(500);
    const body = (await res.json()) as { errors?: Array<{ message: string }> };
    expect(body.errors?.length).toBeGreaterThan(0);
    expect(body.errors![0]!.message).not.toBe('Unexpected error.');
  });

  it('answers malformed request bodies with a 4xx', async () => {
    for (const body of ['{', '[]', '{"query": 5}', '{"query": "{ viewer { kind } }", "variables": "nope"}', '']) {
      const res = await s.http('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status, body).toBeGreaterThanOrEqual(400);
      expect(res.status, body).toBeLessThan(500);
    }
  });
});

describe('CORS with CORS_ORIGINS', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ CORS_ORIGINS: 'http://app.example, http://other.example' });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('answers a listed origin (preflight and request) and not an unlisted one', async () => {
    const preflight = await s.http('/graphql', {
      method: 'OPTIONS',
      headers: { origin: 'http://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const res = await post(s, { query: '{ viewer { kind } }' }, { origin: 'http://other.example' });
    expect(res.headers.get('access-control-allow-origin')).toBe('http://other.example');
    const evil = await post(s, { query: '{ viewer { kind } }' }, { origin: 'http://evil.example' });
    expect(evil.headers.get('access-control-allow-origin')).not.toBe('http://evil.example');
  });
});
