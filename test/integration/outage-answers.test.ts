// API.md "Outages", the database side, with the database down (a TCP proxy between the server and
// PostgreSQL is cut: connections dropped, new ones refused). Every answer a client can get is checked
// for its exact shape: GraphQL over HTTP (queries, a mutation, a credential that must be looked up, a
// result that had partial data) and SSE answer 503 with Retry-After, no `data` and exactly one
// SERVICE_UNAVAILABLE error; graphql-ws acknowledges connection_init and answers each subscribe with an
// `error` holding one SERVICE_UNAVAILABLE error; every agent route answers 413, 415 and 400 as usual and
// 503 {"error":"database unavailable"} with Retry-After from step 3 of its checks on; /ready is 503. A
// request that needs no database (serverTime, an anonymous viewer) still answers. Once the database is
// back, everything answers again without a restart.
//
// The database hung (a frozen proxy) is the second part: each answer within DATABASE_TIMEOUT_MS (with a
// restart storm converging afterwards in test/faults/database-hung.test.ts). The embedded database lives
// inside the server's own process, with nothing between them to cut: server project only.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, dbMode, type TestDatabase } from '../support/database.js';
import { heartbeatBody, registerBody } from '../support/registry-fixtures.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { createExternal } from '../graphql/fixtures.js';

const TIMEOUT_MS = 1_000;

interface Answer {
  status: number;
  retryAfter: string | null;
  body: any;
}

/** A server whose database connections go through a TCP proxy, an org token and an agent, made while
 * the database answers; `fault` then cuts or freezes the proxy. Filled in by beforeAll. */
interface BehindProxy {
  proxy: TcpProxy;
  s: TestServer;
  org: string;
  agent: { id: string; token: string };
}

function serverBehindProxy(name: string, fault: (proxy: TcpProxy) => void): BehindProxy {
  const f = {} as BehindProxy;
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    const target = new URL(db.url!);
    f.proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    f.s = await startTestServer({ DATABASE_URL: f.proxy.through(db.url!), DATABASE_TIMEOUT_MS: String(TIMEOUT_MS), RATE_LIMIT_PER_MIN: '100000' });
    f.org = (await f.s.gql(`mutation { createOrgToken(name: "${name}") { ... on CreateOrgTokenSuccess { token } } }`)).data.createOrgToken.token;
    const w = await createExternal(f.s, { name });
    f.agent = { id: w.workspace.id, token: w.token };
    fault(f.proxy);
  });
  afterAll(async () => {
    f.proxy?.thaw();
    f.proxy?.restore();
    await f.s?.stop();
    await f.proxy?.close();
    await db?.drop();
  });
  return f;
}

describe.skipIf(dbMode() !== 'server')('answers while the database is down', () => {
  const f = serverBehindProxy('outage', (p) => p.cut());

  async function post(path: string, init: { body: string | Buffer; type?: string | null; token?: string | null; accept?: string }): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (init.type !== null) headers['content-type'] = init.type ?? 'application/json';
    if (init.token !== null) headers.authorization = `Bearer ${init.token ?? TEST_ADMIN_TOKEN}`;
    if (init.accept) headers.accept = init.accept;
    const res = await f.s.http(path, { method: 'POST', headers, body: typeof init.body === 'string' ? init.body : new Uint8Array(init.body) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // SSE or plain text: kept as text
    }
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
  }
  const graphql = (query: string, token: string | null = TEST_ADMIN_TOKEN, variables: Record<string, unknown> = {}) =>
    post('/graphql', { body: JSON.stringify({ query, variables }), token });

  function expectOutage(a: Answer, what: string): void {
    expect(a.status, what).toBe(503);
    expect(a.retryAfter, what).toMatch(/^[1-9][0-9]*$/);
    expect(a.body, what).not.toHaveProperty('data');
    expect(a.body.errors, what).toHaveLength(1);
    expect(a.body.errors[0].extensions, what).toEqual({ code: 'SERVICE_UNAVAILABLE' });
    expect(a.body.errors[0].message, what).not.toBe('Unexpected error.');
  }

  it('answers GraphQL over HTTP with 503, Retry-After, no data and one SERVICE_UNAVAILABLE error', async () => {
    expectOutage(await graphql('{ workspaces { totalCount } }'), 'a query of the admin');
    // Partial data would be possible here (serverTime needs no database): the answer is still the outage alone.
    expectOutage(await graphql('{ serverTime workspaceCounts { count } eventCursor }'), 'a query with partial data');
    // A credential that must be looked up: the outage, never UNAUTHENTICATED.
    expectOutage(await graphql('{ viewer { kind } }', f.org), 'an org token');
    expectOutage(await graphql('{ viewer { kind } }', f.agent.token), 'a workspace token');
    expectOutage(await graphql('{ viewer { kind } }', 'A'.repeat(43)), 'an unknown token');
    // A mutation: neither a typed error nor the masked one.
    expectOutage(
      await graphql('mutation($i: CreateWorkspaceInput!) { createWorkspace(input: $i) { __typename } }', TEST_ADMIN_TOKEN, { i: { name: 'during', runtime: 'external' } }),
      'a mutation',
    );
    expectOutage(await graphql('mutation($id: ID!) { pauseWorkspace(id: $id) { __typename } }', TEST_ADMIN_TOKEN, { id: f.agent.id }), 'a lifecycle mutation');
  });

  it('still answers what needs no database', async () => {
    const a = await graphql('{ serverTime viewer { kind } }', null);
    expect(a.status).toBe(200);
    expect(a.body.data.viewer.kind).toBe('ANONYMOUS');
    expect((await f.s.http('/health')).status).toBe(200);
  });

  it('answers an SSE subscription the same way', async () => {
    const a = await post('/graphql', { body: JSON.stringify({ query: 'subscription { workspaceStatusChanged { event { id } } }' }), token: f.org, accept: 'text/event-stream' });
    expect(a.status).toBe(503);
    expect(a.retryAfter).toMatch(/^[1-9][0-9]*$/);
    const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
    expect(text).toContain('SERVICE_UNAVAILABLE');
    expect(text).not.toContain('Unexpected error.');
    expect(text).not.toContain('"data"');
  });

  it('acknowledges graphql-ws connection_init and answers each subscribe with an error holding one SERVICE_UNAVAILABLE', async () => {
    for (const token of [f.org, f.agent.token, TEST_ADMIN_TOKEN]) {
      const messages = await new Promise<Array<{ id?: string; type: string; payload?: any }>>((resolve, reject) => {
        const sock = new WebSocket(`${f.s.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
        const got: Array<{ id?: string; type: string; payload?: any }> = [];
        const timer = setTimeout(() => reject(new Error(`no answer: ${JSON.stringify(got)}`)), 10_000);
        sock.on('open', () => sock.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
        sock.on('close', (code) => {
          clearTimeout(timer);
          resolve([...got, { type: `closed ${code}` }]);
        });
        sock.on('message', (data) => {
          const m = JSON.parse(String(data)) as { id?: string; type: string; payload?: unknown };
          got.push(m);
          if (m.type === 'connection_ack') {
            for (const id of ['1', '2']) {
              sock.send(JSON.stringify({ id, type: 'subscribe', payload: { query: `subscription { workspaceEvents(workspaceId: "${f.agent.id}") { id } }` } }));
            }
          }
          if (got.filter((x) => x.type === 'error' || x.type === 'complete').length === 2) {
            clearTimeout(timer);
            sock.close();
            resolve(got);
          }
        });
      });
      expect(messages[0]?.type).toBe('connection_ack');
      for (const id of ['1', '2']) {
        const error = messages.find((m) => m.id === id);
        expect(error?.type, JSON.stringify(messages)).toBe('error');
        expect(error?.payload).toHaveLength(1);
        expect(error?.payload[0].extensions).toEqual({ code: 'SERVICE_UNAVAILABLE' });
      }
    }
  });

  it('answers every agent route 413, 415 and 400 as usual, then 503 {"error":"database unavailable"} with Retry-After', async () => {
    const routes = {
      '/registry/register': registerBody(f.agent.id),
      '/registry/heartbeat': heartbeatBody(f.agent.id),
      '/registry/update-card': { workspace_id: f.agent.id, agent_card: { name: 'x' } },
    };
    for (const [path, body] of Object.entries(routes)) {
      expect((await post(path, { body: Buffer.alloc(1024 * 1024 + 1, 32), token: f.agent.token })).status, `${path} 413`).toBe(413);
      expect((await post(path, { body: JSON.stringify(body), type: 'text/plain', token: f.agent.token })).status, `${path} 415`).toBe(415);
      expect((await post(path, { body: JSON.stringify(body), type: null, token: f.agent.token })).status, `${path} 415 without a type`).toBe(415);
      expect((await post(path, { body: '{', token: f.agent.token })).status, `${path} 400`).toBe(400);
      for (const [label, token] of [['its token', f.agent.token], ['a bad token', 'x'], ['no token', null]] as const) {
        const a = await post(path, { body: JSON.stringify(body), token });
        expect([a.status, a.body, a.retryAfter], `${path} with ${label}`).toEqual([503, { error: 'database unavailable' }, expect.stringMatching(/^[1-9][0-9]*$/)]);
      }
    }
    for (const token of [f.agent.token, f.org, TEST_ADMIN_TOKEN]) {
      const res = await f.s.http(`/workspaces/${f.agent.id}/state`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
      expect(await res.json()).toEqual({ error: 'database unavailable' });
    }
    const ready = await f.s.http('/ready');
    expect(ready.status).toBe(503);
  });

  it('answers again once the database is back, without a restart', async () => {
    f.proxy.restore();
    const deadline = Date.now() + 15_000;
    let a: Answer;
    do {
      a = await graphql('{ viewer { kind } workspaces { totalCount } }', f.org);
      if (a.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    } while (Date.now() < deadline);
    expect(a.body).toEqual({ data: { viewer: { kind: 'ORG_TOKEN' }, workspaces: { totalCount: 1 } } });
    expect((await post('/registry/heartbeat', { body: JSON.stringify(heartbeatBody(f.agent.id)), token: f.agent.token })).status).toBe(200);
    expect((await f.s.http('/ready')).status).toBe(200);
  });
});

// The same database hung instead (the proxy frozen: connections open, no byte moves): each answer
// comes within DATABASE_TIMEOUT_MS (and a margin for a loaded machine), never after a driver's own
// minutes-long timeout.
describe.skipIf(dbMode() !== 'server')('answers while the database hangs', () => {
  const BOUND_MS = TIMEOUT_MS + 1_500;
  const f = serverBehindProxy('hung', (p) => p.freeze());

  async function timed(path: string, init: RequestInit): Promise<{ status: number; ms: number; body: string }> {
    const t0 = performance.now();
    const res = await f.s.http(path, init);
    const body = await res.text();
    return { status: res.status, ms: performance.now() - t0, body };
  }
  const json = (token: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` });

  it('answers GraphQL, SSE, the agent routes and /ready with 503 within DATABASE_TIMEOUT_MS', async () => {
    const answers = await Promise.all([
      timed('/graphql', { method: 'POST', headers: json(TEST_ADMIN_TOKEN), body: JSON.stringify({ query: '{ workspaces { totalCount } }' }) }),
      timed('/graphql', { method: 'POST', headers: json(f.org), body: JSON.stringify({ query: '{ viewer { kind } }' }) }),
      timed('/graphql', { method: 'POST', headers: { ...json(f.org), accept: 'text/event-stream' }, body: JSON.stringify({ query: 'subscription { workspaceEvents { id } }' }) }),
      timed('/registry/heartbeat', { method: 'POST', headers: json(f.agent.token), body: JSON.stringify(heartbeatBody(f.agent.id)) }),
      timed(`/workspaces/${f.agent.id}/state`, { headers: { authorization: `Bearer ${f.agent.token}` } }),
      timed('/ready', {}),
    ]);
    for (const [i, a] of answers.entries()) {
      expect(a.status, `${i}: ${a.body}`).toBe(503);
      expect(a.ms, `${i}`).toBeLessThan(BOUND_MS);
      if (i < 3) expect(a.body, `${i}`).toContain('SERVICE_UNAVAILABLE');
      if (i === 3 || i === 4) expect(JSON.parse(a.body)).toEqual({ error: 'database unavailable' });
    }
  });

  it('answers again once the database moves again', async () => {
    f.proxy.thaw();
    const deadline = Date.now() + 15_000;
    let last = '';
    while (Date.now() < deadline) {
      const r = await f.s.gql('{ viewer { kind } }', {}, f.org);
      last = JSON.stringify(r);
      if (r.status === 200) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(JSON.parse(last)).toMatchObject({ status: 200, data: { viewer: { kind: 'ORG_TOKEN' } } });
  });
});
