// Problem 4 of issue 11 (the database side): a database that stops answering (a TCP proxy we freeze:
// connections stay open, no byte moves). Every request that needs the database must answer the outage
// within DATABASE_TIMEOUT_MS instead of hanging: GraphQL 503 + Retry-After with one
// SERVICE_UNAVAILABLE error and no data (over SSE too), graphql-ws an acknowledged connection_init
// and an `error` per subscribe, the agent routes 503 after their body checks, /ready 503. The restart
// storm caught in it converges once the database answers again.
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { dockerAvailable, rawDocker } from '../support/docker-e2e.js';
import { converged, eventCursor } from './support/convergence.js';
import { faultFixture } from './support/fixture.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { createWorkspaces, isOutageAnswer, restartStorm } from './support/workload.js';
import { expectRestartHistory } from './support/history.js';

const TIMEOUT_MS = 1_500;
/** What "within DATABASE_TIMEOUT_MS" may take on a loaded machine: the timeout and a little. */
const BOUND_MS = TIMEOUT_MS + 1_500;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}

/** connection_init, then one subscribe; resolves with the messages up to the first error or complete. */
function wsSubscribe(url: string, authorization: string): Promise<Array<{ type: string; payload?: any }>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace('http', 'ws') + '/graphql', 'graphql-transport-ws');
    const got: Array<{ type: string; payload?: any }> = [];
    const timer = setTimeout(() => reject(new Error(`no answer: ${JSON.stringify(got)}`)), 15_000);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization } })));
    ws.on('close', (code) => {
      clearTimeout(timer);
      got.push({ type: `closed ${code}` });
      resolve(got);
    });
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string; payload?: unknown };
      got.push(m);
      if (m.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { workspaceStatusChanged { event { id } } }' } }));
      }
      if (m.type === 'error' || m.type === 'complete') {
        clearTimeout(timer);
        ws.close();
        resolve(got);
      }
    });
  });
}

describe.skipIf(!dockerAvailable && !process.env.CI)('a hung database', () => {
  let proxy: TcpProxy;
  const f = faultFixture(async () => {
    const u = new URL(f.database.url!);
    proxy = await startTcpProxy(u.hostname, Number(u.port || 5432));
    f.cleanup(() => proxy.close());
    f.cleanup(async () => proxy.thaw());
  });

  it('answers every request that needs it as an outage within DATABASE_TIMEOUT_MS, and converges once it answers again', async () => {
    // The server goes through the proxy; the checks read the database straight.
    const { s, sql, deploymentId } = await f.server({ DATABASE_URL: proxy.through(f.database.url!), DATABASE_TIMEOUT_MS: String(TIMEOUT_MS) }, f.database.url!);
    const org = (await s.gql(`mutation { createOrgToken(name: "ops") { ... on CreateOrgTokenSuccess { token } } }`)).data.createOrgToken.token as string;
    const ids = await createWorkspaces(s.gql, 4, 'hung db');
    const check = { sql, docker: rawDocker, deploymentId, ids };
    await converged(check, Date.now(), 90_000);

    const cursor = await eventCursor(sql);
    const accepted = await restartStorm(s.gql, ids, 2);
    proxy.freeze();
    const frozenAt = Date.now();

    const [list, listMs] = await timed(() => s.gql(`{ workspaces(first: 10) { edges { node { id status } } } }`));
    expect(isOutageAnswer(list), JSON.stringify(list)).toBe(true);
    expect((list as { headers?: Headers }).headers?.get('retry-after')).toBe('1');
    expect(listMs).toBeLessThan(BOUND_MS);
    // A credential that must be looked up in the database: the outage too, never UNAUTHENTICATED.
    const [asOrg, orgMs] = await timed(() => s.gqlAs(org, `{ viewer { kind } }`));
    expect(isOutageAnswer(asOrg), JSON.stringify(asOrg)).toBe(true);
    expect(orgMs).toBeLessThan(BOUND_MS);
    // SSE answers the same.
    const [sse, sseMs] = await timed(() =>
      fetch(`${s.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${org}` },
        body: JSON.stringify({ query: 'subscription { workspaceStatusChanged { event { id } } }' }),
      }),
    );
    expect(sse.status).toBe(503);
    expect(sse.headers.get('retry-after')).toBe('1');
    expect(await sse.text()).toContain('SERVICE_UNAVAILABLE');
    expect(sseMs).toBeLessThan(BOUND_MS);
    // graphql-ws: acknowledged (not 4403), then an error for the subscribe.
    const ws = await wsSubscribe(s.url, `Bearer ${org}`);
    expect(ws[0]?.type).toBe('connection_ack');
    const error = ws.find((m) => m.type === 'error');
    expect(error?.payload).toEqual([expect.objectContaining({ extensions: { code: 'SERVICE_UNAVAILABLE' } })]);
    // The agent routes: the body checks as usual, then the outage.
    const post = (body: string, type = 'application/json') =>
      fetch(`${s.url}/registry/heartbeat`, { method: 'POST', headers: { 'content-type': type, authorization: 'Bearer x' }, body });
    expect((await post('{}', 'text/plain')).status).toBe(415);
    expect((await post('{')).status).toBe(400);
    const heartbeat = JSON.stringify({ workspace_id: ids[0], error_rate: 0, sample_error: '', active_tasks: 0, uptime_seconds: 1, current_task: '', runtime_state: '' });
    const [rest, restMs] = await timed(() => post(heartbeat));
    expect(rest.status).toBe(503);
    expect(rest.headers.get('retry-after')).toBe('1');
    expect(await rest.json()).toEqual({ error: 'database unavailable' });
    expect(restMs).toBeLessThan(BOUND_MS);
    const [ready, readyMs] = await timed(() => fetch(`${s.url}/ready`));
    expect(ready.status).toBe(503);
    expect(readyMs).toBeLessThan(BOUND_MS);

    // Hung for a while longer than the timeout, then back.
    await new Promise((r) => setTimeout(r, Math.max(0, 6_000 - (Date.now() - frozenAt))));
    proxy.thaw();
    const thawedAt = Date.now();
    const tookMs = await converged(check, thawedAt, 60_000);
    console.log(`[faults] database hung for ${thawedAt - frozenAt} ms (answers within ${Math.round(Math.max(listMs, orgMs, sseMs, restMs, readyMs))} ms) → converged ${tookMs} ms after it answered again`);
    expect(tookMs).toBeLessThan(30_000);
    for (const id of ids) await expectRestartHistory(sql, id, cursor, accepted.get(id)!);
    expect((await s.gql('{ viewer { kind } }')).data.viewer.kind).toBe('ADMIN');
  });
});
