// The operator surface: /health, /ready, /metrics, request ids, the GraphQL body cap, and that
// failures never leak as 500s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentCall, heartbeatBody, seedWorkspace } from '../support/registry-fixtures.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';

describe('operations endpoints', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('GET /health answers 200 {"status":"ok"} without a credential', async () => {
    const r = await s.http('/health');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await r.text()).toBe('{"status":"ok"}');
  });

  it('GET /ready answers 200 while the database answers', async () => {
    const r = await s.http('/ready');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ready' });
  });

  it('GET /metrics serves Prometheus text with HTTP, GraphQL and pool metrics', async () => {
    const w = await seedWorkspace(s, 'ONLINE');
    await agentCall(s, '/registry/heartbeat', { body: heartbeatBody(w.id), token: w.token });
    await s.http('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: JSON.stringify({ query: 'query WhoAmI { viewer { kind } }', operationName: 'WhoAmI' }),
    });
    await s.http('/no-such-route');
    const r = await s.http('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    expect(text).toMatch(/^http_requests_total\{route="\/registry\/heartbeat",method="POST",status="200"\} [1-9]/m);
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{le="[^"]+",route="\/registry\/heartbeat",method="POST",status="200"\} /m);
    expect(text).toMatch(/^http_requests_total\{route="unmatched",method="GET",status="404"\} 1$/m);
    expect(text).toMatch(/^graphql_requests_total\{operation="WhoAmI",status="200"\} 1$/m);
    expect(text).toMatch(/^graphql_request_duration_seconds_count\{operation="WhoAmI"\} 1$/m);
    expect(text).toMatch(/^db_pool_connections\{state="total"\} \d+$/m);
    expect(text).toMatch(/^db_pool_connections\{state="idle"\} \d+$/m);
    expect(text).toMatch(/^db_pool_connections\{state="waiting"\} \d+$/m);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
  });

  it('bounds the operation-name label: malformed names are counted as "other"', async () => {
    await s.http('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ viewer { kind } }', operationName: 'not a name {}' }),
    });
    const text = await (await s.http('/metrics')).text();
    expect(text).not.toContain('not a name');
    expect(text).toMatch(/^graphql_requests_total\{operation="other",status="\d+"\} \d+$/m);
  });

  it('echoes a sane x-request-id and generates one otherwise', async () => {
    const given = await s.http('/health', { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-abc.123');
    const generated = await s.http('/health');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await s.http('/health', { headers: { 'x-request-id': 'x'.repeat(500) } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('caps GraphQL request bodies at 1 MiB with 413', async () => {
    const query = `{ viewer { kind } }${' '.repeat(1024 * 1024)}`;
    const r = await s.http('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    expect(r.status).toBe(413);
    expect(await r.json()).toEqual({ error: 'request body exceeds 1 MiB' });
  });

  it('still serves GraphQL after the body is read for the cap: variables, malformed JSON, other content types', async () => {
    const ok = await s.gql('query Q($x: ID!) { workspace(id: $x) { id } }', { x: '00000000-0000-4000-8000-000000000000' });
    expect(ok.status).toBe(200);
    expect(ok.data).toEqual({ workspace: null });
    const bad = await s.http('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":' });
    expect(bad.status).toBe(400);
    const empty = await s.http('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' });
    expect(empty.status).toBeLessThan(500);
    const graphqlString = await s.http('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/graphql' },
      body: '{ viewer { kind } }',
    });
    expect(graphqlString.status).toBeLessThan(500);
  });

  it('answers unknown routes with 404 {"error":"not found"}', async () => {
    const r = await s.http('/admin');
    expect(r.status).toBe(404);
    expect(await r.text()).toBe('{"error":"not found"}');
  });

  it('answers a malformed request line with 400, not a crash', async () => {
    const net = await import('node:net');
    const u = new URL(s.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(Number(u.port), u.hostname, () => sock.write('GARBAGE\r\n\r\n'));
      let data = '';
      sock.on('data', (c) => (data += c.toString()));
      sock.on('end', () => resolve(data));
      sock.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect((await s.http('/health')).status).toBe(200);
  });
});

describe('/ready when the database does not answer', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('answers 503 with an error body once the pool cannot reach the database, while /health stays 200', async () => {
    await s.db.pool.end();
    const r = await s.http('/ready');
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ error: 'database is not answering' });
    expect((await s.http('/health')).status).toBe(200);
  });

  it('answers an agent call with 503, not 500, when the database is gone', async () => {
    const r = await agentCall(s, '/registry/heartbeat', {
      body: heartbeatBody('00000000-0000-4000-8000-000000000001'),
      token: 'x',
    });
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ error: 'database unavailable' });
  });
});
