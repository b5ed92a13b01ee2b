// RATE_LIMIT_PER_MIN per client IP over GraphQL and REST, in fixed one-minute windows; probes are not
// limited. One server; each test speaks from its own loopback address (127.0.0.x), which is its own
// client IP, so the tests do not share a window.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { heartbeatBody } from '../support/registry-fixtures.js';
import { requestFrom, type Reply } from '../support/http-from.js';
import { startTestServer, type TestServer } from '../support/server.js';

const UNKNOWN = '00000000-0000-4000-8000-0000000000dd';

describe('rate limit (RATE_LIMIT_PER_MIN=5)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ RATE_LIMIT_PER_MIN: '5' });
  });
  afterAll(async () => {
    await s?.stop();
  });

  function from(localAddress: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers = { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers };
    return requestFrom(s.url, localAddress, body === undefined ? 'GET' : 'POST', path, headers, body);
  }
  // Windows are aligned to the minute: a test that straddles a boundary would start a fresh window.
  beforeEach(async () => {
    const intoWindow = Date.now() % 60_000;
    if (intoWindow > 57_000) await new Promise((r) => setTimeout(r, 60_100 - intoWindow));
  });

  const heartbeat = (ip: string, headers?: Record<string, string>) => from(ip, '/registry/heartbeat', { body: heartbeatBody(UNKNOWN), headers });
  const graphql = (ip: string) => from(ip, '/graphql', { body: { query: '{ viewer { kind } }' } });

  it('answers the 6th REST request of a minute with 429, Retry-After and the exact body', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await heartbeat('127.0.0.11')).status);
    expect(statuses).toEqual([404, 404, 404, 404, 404]);
    const r = await heartbeat('127.0.0.11');
    expect(r.status).toBe(429);
    expect(r.body).toBe('{"error":"rate limit exceeded"}');
    const retryAfter = Number(r.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('counts GraphQL and REST together and answers GraphQL over the limit with a GraphQL 429 carrying retryAfter', async () => {
    for (let i = 0; i < 3; i++) expect((await graphql('127.0.0.12')).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await from('127.0.0.12', `/workspaces/${UNKNOWN}/state`)).status).toBe(404);
    const r = await graphql('127.0.0.12');
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toMatch(/^\d+$/);
    const retryAfter = Number(r.headers['retry-after']);
    expect(JSON.parse(r.body)).toEqual({ errors: [{ message: 'rate limit exceeded', extensions: { code: 'RATE_LIMITED', retryAfter } }] });
  });

  it('does not limit CORS preflights, nor count them', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await requestFrom(s.url, '127.0.0.17', 'OPTIONS', '/graphql', { origin: 'http://x.example', 'access-control-request-method': 'POST' });
      expect(r.status).toBe(204);
    }
    expect((await graphql('127.0.0.17')).status).toBe(200);
  });

  it('limits each client IP separately', async () => {
    for (let i = 0; i < 6; i++) await heartbeat('127.0.0.13');
    expect((await heartbeat('127.0.0.13')).status).toBe(429);
    expect((await heartbeat('127.0.0.14')).status).toBe(404);
  });

  it('does not limit /health, /ready and /metrics, nor count them', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await from('127.0.0.15', '/health')).status).toBe(200);
      expect((await from('127.0.0.15', '/ready')).status).toBe(200);
      expect((await from('127.0.0.15', '/metrics')).status).toBe(200);
    }
    expect((await graphql('127.0.0.15')).status).toBe(200);
  });

  it('keys on the TCP peer, not X-Forwarded-For', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await heartbeat('127.0.0.16', { 'x-forwarded-for': `10.0.0.${i}` })).status);
    expect(statuses).toEqual([404, 404, 404, 404, 404, 429]);
  });
});
