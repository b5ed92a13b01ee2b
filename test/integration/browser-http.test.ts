// What a browser needs of every HTTP answer (API.md "Frontends"): CORS headers for listed origins on
// every answer, the ones given before GraphQL runs included; preflights with the exact header list and
// max-age; 405 for other methods on /graphql; the CSRF rule; request ids on masked errors; retryAfter
// on RATE_LIMITED over HTTP and WebSocket. Each case speaks from its own loopback address (its own
// client IP), so the rate limit of one never touches another.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORS_ALLOWED_HEADERS } from '../../http/cors.js';
import { requestFrom, type Reply } from '../support/http-from.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';
import { connectWs } from '../support/subscriptions.js';

const request = (s: TestServer, ip: string, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer) =>
  requestFrom(s.url, ip, method, path, headers, body);

const APP = 'http://app.example';
const json = { 'content-type': 'application/json' };
const admin = { ...json, authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const VIEWER = JSON.stringify({ query: '{ viewer { kind } }' });

describe('CORS and CSRF with CORS_ORIGINS', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({
      CORS_ORIGINS: `${APP}, http://other.example`,
      CORS_MAX_AGE_S: '321',
      CORS_ALLOW_HEADERS: 'X-Custom-One, x-custom-two',
      RATE_LIMIT_PER_MIN: '20',
    });
  });
  afterAll(async () => {
    await s?.stop();
  });

  /** Every kind of answer, each from the given address, with the given Origin. */
  async function answers(ip: string, origin: string): Promise<Record<string, Reply>> {
    const o = { origin };
    const r: Record<string, Reply> = {
      '200 graphql': await request(s, ip, 'POST', '/graphql', { ...admin, ...o }, VIEWER),
      '401 graphql': await request(s, ip, 'POST', '/graphql', { ...json, authorization: 'Bearer nope', ...o }, VIEWER),
      '403 csrf': await request(s, ip, 'GET', `/graphql?query=${encodeURIComponent('{ viewer { kind } }')}`, o),
      '404 unknown path': await request(s, ip, 'GET', '/nowhere', o),
      '405 graphql PUT': await request(s, ip, 'PUT', '/graphql', { ...admin, ...o }, VIEWER),
      '413 graphql': await request(s, ip, 'POST', '/graphql', { ...admin, ...o }, Buffer.alloc(1024 * 1024 + 10, 32)),
      '404 rest': await request(s, ip, 'GET', '/workspaces/00000000-0000-4000-8000-000000000000/state', o),
      '200 health': await request(s, ip, 'GET', '/health', o),
    };
    for (let i = 0; i < 25 && !r['429 graphql']; i++) {
      const x = await request(s, ip, 'POST', '/graphql', { ...admin, ...o }, VIEWER);
      if (x.status === 429) r['429 graphql'] = x;
    }
    r['429 rest'] = await request(s, ip, 'GET', '/workspaces/00000000-0000-4000-8000-000000000000/state', o);
    return r;
  }

  it('gives a listed origin Access-Control-Allow-Origin, Vary and the exposed headers on every answer', async () => {
    const all = await answers('127.0.0.41', APP);
    for (const [label, r] of Object.entries(all)) {
      expect(String(r.status), label).toBe(label.slice(0, 3));
      expect(r.headers['access-control-allow-origin'], label).toBe(APP);
      expect(r.headers.vary, label).toMatch(/\bOrigin\b/);
      expect(r.headers['access-control-expose-headers']?.split(/,\s*/).sort(), label).toEqual(['retry-after', 'x-request-id']);
      expect(r.headers['x-request-id'], label).toBeTruthy();
    }
    expect(all['429 graphql']!.headers['retry-after']).toMatch(/^\d+$/);
  });

  it('gives another origin no Access-Control-Allow-Origin at all', async () => {
    const all = await answers('127.0.0.42', 'http://evil.example');
    for (const [label, r] of Object.entries(all)) {
      expect(String(r.status), label).toBe(label.slice(0, 3));
      expect(r.headers['access-control-allow-origin'], label).toBeUndefined();
      expect(r.headers['access-control-expose-headers'], label).toBeUndefined();
    }
  });

  it('answers preflights with the methods, exactly the allowed headers and CORS_MAX_AGE_S, on GraphQL and REST', async () => {
    for (const path of ['/graphql', '/registry/heartbeat']) {
      const r = await request(s, '127.0.0.43', 'OPTIONS', path, {
        origin: APP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, traceparent',
      });
      expect(r.status, path).toBe(204);
      expect(r.headers['access-control-allow-origin']).toBe(APP);
      expect(r.headers['access-control-allow-methods']).toBe('GET, POST, OPTIONS');
      expect(r.headers['access-control-allow-headers']!.split(', ')).toEqual([...CORS_ALLOWED_HEADERS, 'x-custom-one', 'x-custom-two']);
      expect(r.headers['access-control-max-age']).toBe('321');
    }
    expect(CORS_ALLOWED_HEADERS).toEqual(['authorization', 'content-type', 'accept', 'x-graphql-yoga-csrf', 'x-request-id', 'traceparent', 'tracestate', 'baggage']);
    const other = await request(s, '127.0.0.43', 'OPTIONS', '/graphql', { origin: 'http://evil.example', 'access-control-request-method': 'POST' });
    expect(other.status).toBe(204);
    for (const h of ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age']) {
      expect(other.headers[h], h).toBeUndefined();
    }
  });

  it('never rate limits a preflight, not even one for a path that does not exist (404, CORS headers kept)', async () => {
    const preflight = { origin: APP, 'access-control-request-method': 'POST' };
    for (let i = 0; i < 30; i++) {
      const r = await request(s, '127.0.0.47', 'OPTIONS', '/no/such/path', preflight);
      expect(r.status).toBe(404);
      expect(r.headers['access-control-allow-origin']).toBe(APP);
    }
    // 30 preflights are past this server's 20 a minute; the address may still call the API.
    expect((await request(s, '127.0.0.47', 'OPTIONS', '/graphql', preflight)).status).toBe(204);
    expect((await request(s, '127.0.0.47', 'POST', '/graphql', json, VIEWER)).status).toBe(200);
  });

  it('answers 405 to any method but GET, POST and OPTIONS on /graphql', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH', 'HEAD']) {
      const r = await request(s, '127.0.0.44', method, '/graphql', admin);
      expect(r.status, method).toBe(405);
    }
  });

  it('needs x-graphql-yoga-csrf or Authorization on a GET carrying an operation, and on a POST that is not JSON', async () => {
    const get = `/graphql?query=${encodeURIComponent('{ viewer { kind } }')}`;
    expect((await request(s, '127.0.0.45', 'GET', get)).status).toBe(403);
    const withCsrf = await request(s, '127.0.0.45', 'GET', get, { 'x-graphql-yoga-csrf': '1' });
    expect(withCsrf.status).toBe(200);
    expect(JSON.parse(withCsrf.body)).toEqual({ data: { viewer: { kind: 'ANONYMOUS' } } });
    // What urql sends by default: a GET with the credential and no CSRF header.
    const withAuth = await request(s, '127.0.0.45', 'GET', get, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` });
    expect(withAuth.status).toBe(200);
    expect(JSON.parse(withAuth.body)).toEqual({ data: { viewer: { kind: 'ADMIN' } } });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/graphql']) {
      expect((await request(s, '127.0.0.45', 'POST', '/graphql', { 'content-type': type }, VIEWER)).status, type).toBe(403);
      const proven = await request(s, '127.0.0.45', 'POST', '/graphql', { 'content-type': type, 'x-graphql-yoga-csrf': '1' }, VIEWER);
      expect(proven.status, type).not.toBe(403);
      expect(proven.status, type).toBeLessThan(500);
    }
    expect((await request(s, '127.0.0.45', 'POST', '/graphql', json, VIEWER)).status).toBe(200);
  });

  it('serves the GraphiQL page with neither header, and always refuses a mutation over GET', async () => {
    for (const path of ['/graphql', `/graphql?query=${encodeURIComponent('{ viewer { kind } }')}`]) {
      const page = await request(s, '127.0.0.46', 'GET', path, { accept: 'text/html' });
      expect(page.status, path).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
    }
    const mutation = `/graphql?query=${encodeURIComponent('mutation { createWorkspace(input: { name: "via-get", runtime: "external" }) { __typename } }')}`;
    const r = await request(s, '127.0.0.46', 'GET', mutation, { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'x-graphql-yoga-csrf': '1' });
    expect(r.status).toBe(405);
    expect((await s.gql('{ workspaces(search: "via-get") { totalCount } }')).data.workspaces.totalCount).toBe(0);
  });
});

describe('request ids on masked errors, and retryAfter on RATE_LIMITED', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ RATE_LIMIT_PER_MIN: '4' });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("gives a masked error extensions.requestId equal to the answer's x-request-id, given or generated", async () => {
    const original = s.services.events.cursor;
    s.services.events.cursor = async () => {
      throw new Error('boom');
    };
    try {
      for (const given of [undefined, 'client-trace-42']) {
        const r = await request(s, '127.0.0.51', 'POST', '/graphql', { ...admin, ...(given ? { 'x-request-id': given } : {}) }, JSON.stringify({ query: '{ eventCursor viewer { kind } }' }));
        const body = JSON.parse(r.body) as { data: unknown; errors: Array<{ message: string; extensions: Record<string, unknown> }> };
        expect(body.errors).toHaveLength(1);
        expect(body.errors[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
        expect(body.errors[0]!.extensions.requestId).toBe(r.headers['x-request-id']);
        if (given) expect(r.headers['x-request-id']).toBe(given);
      }
    } finally {
      s.services.events.cursor = original;
    }
  });

  it('gives a masked subscription error over WebSocket a requestId too', async () => {
    const original = s.services.subscriptions.open;
    s.services.subscriptions.open = async () => {
      throw new Error('boom');
    };
    const ws = connectWs(s);
    try {
      const sub = ws.subscribe('subscription { workspaceEvents { id } }');
      await sub.collected.until((c) => c.done || c.results.length > 0);
      const error = (sub.collected.results[0]?.errors ?? (sub.collected.error as Array<{ message: string; extensions: Record<string, unknown> }>))[0]!;
      expect(error.message).toBe('Unexpected error.');
      expect(error.extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    } finally {
      s.services.subscriptions.open = original;
      await ws.dispose();
    }
  });

  it("gives a masked subscription error over SSE the answer's x-request-id", async () => {
    const original = s.services.subscriptions.open;
    s.services.subscriptions.open = async () => {
      throw new Error('boom');
    };
    try {
      const r = await request(s, '127.0.0.52', 'POST', '/graphql', { ...admin, accept: 'text/event-stream', 'x-request-id': 'sse-trace-7' }, JSON.stringify({ query: 'subscription { workspaceEvents { id } }' }));
      expect(r.headers['x-request-id']).toBe('sse-trace-7');
      const data = r.body.split('\n').filter((l) => l.startsWith('data:') && l.slice(5).trim()).map((l) => JSON.parse(l.slice(5)) as { errors?: Array<{ message: string; extensions: Record<string, unknown> }> });
      const error = data.flatMap((d) => d.errors ?? [])[0];
      expect(error).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'sse-trace-7' } });
    } finally {
      s.services.subscriptions.open = original;
    }
  });

  it('carries extensions.retryAfter on a WebSocket subscribe over the limit', async () => {
    // The upgrade and each subscribe count against the same per-IP window.
    const ws = connectWs(s);
    try {
      const subs = Array.from({ length: 6 }, () => ws.subscribe('subscription { workspaceEvents { id } }'));
      const deadline = Date.now() + 5_000;
      let refused: (typeof subs)[number] | undefined;
      while (!(refused = subs.find((sub) => sub.collected.errorCode() === 'RATE_LIMITED')) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(refused).toBeDefined();
      const err = (refused!.collected.error as Array<{ extensions: Record<string, unknown> }>)?.[0] ?? refused!.collected.results[0]!.errors![0]!;
      expect(err.extensions.retryAfter).toEqual(expect.any(Number));
      expect(err.extensions.retryAfter as number).toBeGreaterThanOrEqual(1);
      expect(err.extensions.retryAfter as number).toBeLessThanOrEqual(60);
    } finally {
      await ws.dispose();
    }
  });
});

describe('without CORS_ORIGINS', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('sends no CORS header on answers nor preflights, whatever the origin', async () => {
    const r = await request(s, '127.0.0.61', 'POST', '/graphql', { ...admin, origin: APP }, VIEWER);
    const p = await request(s, '127.0.0.61', 'OPTIONS', '/graphql', { origin: APP, 'access-control-request-method': 'POST' });
    for (const x of [r, p]) {
      for (const h of Object.keys(x.headers)) expect(h.startsWith('access-control-'), h).toBe(false);
      expect(x.headers.vary ?? '').not.toMatch(/Origin/);
    }
  });
});
