// Property: every REST agent route answers hostile requests that must be refused with a 4xx (never a
// 5xx) and leaves every table exactly as it was.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isJsonContentType } from '../../http/body.js';
import { seedWorkspace, tablesChecksum, type Seeded } from '../support/registry-fixtures.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';

const RUNS = 60;
type PostRoute = '/registry/register' | '/registry/heartbeat' | '/registry/update-card';
const POST_ROUTES: PostRoute[] = ['/registry/register', '/registry/heartbeat', '/registry/update-card'];

interface HostileRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** Header values fetch accepts: visible ASCII and spaces, no leading/trailing whitespace. */
const headerValue = fc
  .string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 })
  .map((s) => s.trim());
const hostileText = fc.string({ unit: 'binary', maxLength: 300 });
const jsonValue = fc.jsonValue({ maxDepth: 4 });

const validHeartbeat = (id: string) =>
  fc.record({
    workspace_id: fc.constant(id),
    error_rate: fc.double({ min: 0, max: 1, noNaN: true }),
    sample_error: fc.option(hostileText, { nil: undefined }),
    active_tasks: fc.integer({ min: 0, max: 1_000_000 }),
    uptime_seconds: fc.integer({ min: 0, max: 2 ** 40 }),
    current_task: fc.option(hostileText, { nil: undefined }),
    runtime_state: fc.constantFrom('', 'wedged'),
  });
const validCard = fc.dictionary(fc.string({ maxLength: 10 }), jsonValue, { maxKeys: 5 });
const validBody = (route: PostRoute, id: string): fc.Arbitrary<Record<string, unknown>> => {
  if (route === '/registry/heartbeat') return validHeartbeat(id);
  if (route === '/registry/update-card') return fc.record({ workspace_id: fc.constant(id), agent_card: validCard });
  return fc.record({ id: fc.constant(id), url: fc.constantFrom('http://127.0.0.1:9', 'https://agent.example/a2a'), agent_card: validCard });
};

describe('hostile requests at the agent routes', () => {
  let s: TestServer;
  let online: Seeded;
  let paused: Seeded;
  let removed: Seeded;
  let other: Seeded;
  beforeAll(async () => {
    s = await startTestServer({ RATE_LIMIT_PER_MIN: '1000000' });
    online = await seedWorkspace(s, 'ONLINE');
    paused = await seedWorkspace(s, 'PAUSED');
    removed = await seedWorkspace(s, 'REMOVED');
    other = await seedWorkspace(s, 'DEGRADED');
  });
  afterAll(async () => {
    await s?.stop();
  });

  const extraHeaders = fc.dictionary(
    fc.constantFrom('x-request-id', 'x-forwarded-for', 'accept', 'accept-encoding', 'x-anything', 'cookie'),
    headerValue,
    { maxKeys: 3 },
  );

  async function refusedWithoutChange(requests: fc.Arbitrary<HostileRequest>): Promise<void> {
    const before = await tablesChecksum(s);
    await fc.assert(
      fc.asyncProperty(requests, async (r) => {
        const res = await s.http(r.path, { method: r.method, headers: r.headers, body: r.body });
        await res.arrayBuffer();
        expect(res.status, `${r.method} ${r.path} ${JSON.stringify(r.headers)} ${r.body?.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(await tablesChecksum(s)).toBe(before);
      }),
      { numRuns: RUNS },
    );
  }

  it('a credential that is not the workspace token gets 401 and changes nothing', async () => {
    const auth = fc.oneof(
      fc.constant(undefined),
      headerValue,
      fc.string({ unit: fc.constantFrom(...'abcXYZ019-._~+/'), minLength: 1, maxLength: 60 }).map((t) => `Bearer ${t}`),
      fc.constant(`Bearer ${TEST_ADMIN_TOKEN}`),
      fc.constant('other'),
    );
    const requests = fc
      .tuple(fc.constantFrom(...POST_ROUTES, 'state' as const), auth, extraHeaders)
      .chain(([route, a, extra]) => {
        const authorization = a === 'other' ? `Bearer ${other.token}` : a;
        const headers: Record<string, string> = { ...extra, ...(authorization ? { authorization } : {}) };
        if (route === 'state') {
          // admin and org tokens may read /state; they are not refused there
          if (authorization === `Bearer ${TEST_ADMIN_TOKEN}`) delete headers.authorization;
          return fc.constant<HostileRequest>({ method: 'GET', path: `/workspaces/${online.id}/state`, headers });
        }
        return validBody(route, online.id).map<HostileRequest>((b) => ({
          method: 'POST',
          path: route,
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(b),
        }));
      });
    await refusedWithoutChange(requests);
  });

  it('a content type that is not application/json gets 415 and changes nothing', async () => {
    const contentType = fc.oneof(
      fc.constant(undefined),
      headerValue.filter((v) => v !== '' && !isJsonContentType(v)),
      fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/jsonp', 'application/ld+json', 'json'),
    );
    const requests = fc
      .tuple(fc.constantFrom(...POST_ROUTES), contentType, extraHeaders)
      .chain(([route, ct, extra]) =>
        validBody(route, online.id).map<HostileRequest>((b) => ({
          method: 'POST',
          path: route,
          headers: { ...extra, authorization: `Bearer ${online.token}`, ...(ct ? { 'content-type': ct } : {}) },
          body: JSON.stringify(b),
        })),
      );
    await refusedWithoutChange(requests);
  });

  it('a malformed body or a field out of bounds gets 400 (or 404 for a bad id) and changes nothing', async () => {
    const corrupt: Record<PostRoute, fc.Arbitrary<[string, unknown]>> = {
      '/registry/heartbeat': fc.oneof(
        fc.tuple(fc.constant('error_rate'), fc.oneof(fc.double({ min: 1.0000001, noNaN: true }), fc.double({ max: -1e-9, noNaN: true }), fc.string(), fc.constant(null))),
        fc.tuple(fc.constant('active_tasks'), fc.oneof(fc.integer({ min: 1_000_001 }), fc.integer({ max: -1 }), fc.double({ min: 0.1, max: 0.9 }), fc.boolean())),
        fc.tuple(fc.constant('uptime_seconds'), fc.oneof(fc.integer({ max: -1 }), fc.string(), fc.array(jsonValue))),
        fc.tuple(fc.constant('runtime_state'), fc.string().filter((v) => v !== '' && v !== 'wedged')),
        fc.tuple(fc.constant('sample_error'), fc.oneof(fc.integer(), fc.dictionary(fc.string(), jsonValue))),
        fc.tuple(fc.constant('workspace_id'), fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string()))),
      ),
      '/registry/update-card': fc.oneof(
        fc.tuple(fc.constant('agent_card'), fc.oneof(fc.array(jsonValue), fc.string(), fc.constant(null), fc.integer())),
        fc.tuple(fc.constant('agent_card'), hostileText.map((t) => ({ text: `${t}\u0000` }))),
      ),
      '/registry/register': fc.oneof(
        fc.tuple(fc.constant('url'), fc.oneof(hostileText.filter((u) => !/^https?:\/\//i.test(u)), fc.constantFrom('http://169.254.169.254/', 'http://[fe80::1]/', 'gopher://x', 'http://metadata.google.internal/'))),
        fc.tuple(fc.constant('url'), fc.constant(`http://a.example/${'x'.repeat(2048)}`)),
        fc.tuple(fc.constant('agent_card'), fc.oneof(fc.array(jsonValue), fc.constant(null), fc.boolean())),
      ),
    };
    const requests = fc
      .tuple(fc.constantFrom(...POST_ROUTES), extraHeaders, fc.boolean())
      .chain(([route, extra, rawText]) => {
        const headers = { ...extra, authorization: `Bearer ${online.token}`, 'content-type': 'application/json; charset=utf-8' };
        // raw text that cannot parse as a JSON object with the required fields
        const text = fc.oneof(hostileText, jsonValue.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)).map((v) => JSON.stringify(v)));
        if (rawText) return text.map<HostileRequest>((body) => ({ method: 'POST', path: route, headers, body }));
        return fc
          .tuple(validBody(route, online.id), corrupt[route])
          .map<HostileRequest>(([b, [field, value]]) => ({ method: 'POST', path: route, headers, body: JSON.stringify({ ...b, [field]: value }) }));
      });
    await refusedWithoutChange(requests);
  });

  it('a paused, removed or unknown workspace is refused (409/404) and nothing changes', async () => {
    const target = fc.oneof(
      fc.constant({ id: paused.id, token: paused.token }),
      fc.constant({ id: removed.id, token: removed.token }),
      fc.uuid().map((id) => ({ id, token: online.token })),
      hostileText.map((id) => ({ id, token: online.token })),
    );
    const requests = fc.tuple(fc.constantFrom(...POST_ROUTES, 'state' as const), target, extraHeaders).chain(([route, t, extra]) => {
      const headers = { ...extra, authorization: `Bearer ${t.token}` };
      if (route === 'state') {
        // the paused workspace's own token may read its state (200): only removed/unknown ids here
        const id = t.id === paused.id ? removed.id : t.id;
        return fc.constant<HostileRequest>({ method: 'GET', path: `/workspaces/${encodeURIComponent(id)}/state`, headers });
      }
      return validBody(route, t.id).map<HostileRequest>((b) => ({
        method: 'POST',
        path: route,
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(b),
      }));
    });
    await refusedWithoutChange(requests);
  });

  it('wrong methods and near-miss paths are refused and change nothing', async () => {
    const requests = fc
      .tuple(
        fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'POST'),
        fc.constantFrom(...POST_ROUTES, `/workspaces/${online.id}/state`, '/registry', '/registry/', '/workspaces//state'),
        fc.option(hostileText, { nil: undefined }),
      )
      .filter(([method, path]) => !(method === 'POST' && POST_ROUTES.includes(path as PostRoute)) && !(method === 'GET' && path.endsWith(`${online.id}/state`)))
      .map<HostileRequest>(([method, path, body]) => ({
        method,
        path,
        headers: { authorization: `Bearer ${online.token}`, 'content-type': 'application/json' },
        body: method === 'GET' ? undefined : body,
      }));
    await refusedWithoutChange(requests);
  });
});
