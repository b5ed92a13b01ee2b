// The limits around live delivery: per-connection limits of the WebSocket transport, slow consumers
// (bounded queue, caught up from the log, evicted only when they stay behind), and the cost per event
// (one log read per batch, one execution shared by subscribers with the same document and visibility).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createGraphQLHandler } from '../../http/graphql.js';
import { sharedExecutionStats } from '../../http/subscription-execution.js';
import { attachWebSocket, type WebSocketTransport } from '../../http/websocket.js';
import { appendEvents } from '../../services/events/log.js';
import { createSubscriptionService, type Delivery } from '../../services/events/subscriptions.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';
import { connectWs, waitForListeners, type WsClient } from '../support/subscriptions.js';

let server: TestServer;
let workspaceId: string;

beforeAll(async () => {
  server = await startTestServer();
  const r = await server.gql(
    `mutation { createWorkspace(input: { name: "limits", runtime: "external" }) { ... on CreateWorkspaceSuccess { workspace { id } } } }`,
  );
  workspaceId = r.data.createWorkspace.workspace.id;
});
afterAll(async () => {
  await server?.stop();
});

/** Commits `n` events (one transaction each, through the real log). */
async function commitEvents(n: number, type = 'TEST_EVENT'): Promise<void> {
  for (let i = 0; i < n; i++) {
    await server.db.tx((tx) => appendEvents(tx, [{ workspaceId, type, payload: { i } }]));
  }
}

describe('WebSocket transport limits', () => {
  let transport: WebSocketTransport;
  let url: string;
  const httpServer = http.createServer((_req, res) => res.writeHead(404).end());

  beforeAll(async () => {
    // A second transport on its own port, with small limits, over the same services.
    transport = attachWebSocket(httpServer, createGraphQLHandler(server.services), server.services, {
      keepAliveMs: 100,
      connectionInitTimeoutMs: 300,
      maxSubscriptionsPerConnection: 2,
    });
    await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', () => r()));
    url = `ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    await transport.close();
    await new Promise<void>((r) => httpServer.close(() => r()));
  });

  function raw(): WebSocket {
    return new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
  }

  it('closes a connection that sends no connection_init in time with 4408', async () => {
    const sock = raw();
    const code = await new Promise<number>((r) => sock.on('close', (c) => r(c)));
    expect(code).toBe(4408);
  });

  it('sends keep-alive pings', async () => {
    const sock = raw();
    await new Promise((r) => sock.on('open', r));
    sock.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }));
    await new Promise<void>((r) => sock.once('ping', () => r()));
    sock.close();
  });

  it('refuses a subscription past the per-connection maximum and keeps the others', async () => {
    const sock = raw();
    const messages: Array<{ id?: string; type: string; payload?: any }> = [];
    sock.on('message', (m) => messages.push(JSON.parse(String(m))));
    await new Promise((r) => sock.on('open', r));
    sock.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }));
    while (!messages.some((m) => m.type === 'connection_ack')) await new Promise((r) => setTimeout(r, 10));
    const before = server.services.subscriptions.listenerCount();
    for (const id of ['1', '2', '3']) {
      sock.send(JSON.stringify({ id, type: 'subscribe', payload: { query: 'subscription { workspaceEvents { id } }' } }));
    }
    await waitForListeners(server, before + 2);
    const deadline = Date.now() + 5000;
    while (!messages.some((m) => m.id === '3') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const third = messages.find((m) => m.id === '3');
    expect(third?.type).toBe('error');
    expect(third?.payload[0].extensions.code).toBe('TOO_MANY_SUBSCRIPTIONS');
    sock.close();
    await waitForListeners(server, before);
  });

  it('does not upgrade other paths', async () => {
    const sock = new WebSocket(url.replace('/graphql', '/other'), 'graphql-transport-ws');
    const err = await new Promise<Error>((r) => sock.on('error', r));
    expect(err.message).toContain('404');
  });
});

describe('slow consumers', () => {
  const log = { info() {}, warn() {}, debug() {}, error() {} } as never;

  it('a subscriber whose queue overflows is caught up from the log, in order, with nothing lost', async () => {
    const svc = createSubscriptionService({ db: server.db, log }, { queueLimit: 3, pollIntervalMs: 20, maxBehindMs: 60_000 });
    await svc.start();
    try {
      const sub = await svc.open({ viewer: { kind: 'ADMIN' }, workspaceId, afterEventId: null, statusOnly: false });
      await commitEvents(12, 'SLOW_A');
      // Nobody consumed meanwhile: the queue holds at most 3, the rest is read back from the log.
      await new Promise((r) => setTimeout(r, 200));
      const got: Delivery[] = [];
      while (got.length < 12) got.push((await sub.next()).value as Delivery);
      expect(got.map((d) => (d.event.payload as { i: number }).i)).toEqual([...Array(12).keys()]);
      expect(svc.listenerCount()).toBe(1);
      // And it is live again afterwards.
      await commitEvents(1, 'SLOW_A_LIVE');
      expect(((await sub.next()).value as Delivery).event.type).toBe('SLOW_A_LIVE');
      await sub.return!();
      expect(svc.listenerCount()).toBe(0);
    } finally {
      await svc.stop();
    }
  });

  it('evicts a subscriber that stays behind past the limit, and only that one', async () => {
    const svc = createSubscriptionService({ db: server.db, log }, { queueLimit: 2, pollIntervalMs: 20, maxBehindMs: 300 });
    await svc.start();
    try {
      let evicted = 0;
      const stuck = await svc.open({ viewer: { kind: 'ADMIN' }, workspaceId, afterEventId: null, statusOnly: false, onEvict: () => evicted++ });
      const keepsUp = await svc.open({ viewer: { kind: 'ADMIN' }, workspaceId, afterEventId: null, statusOnly: false });
      const received: string[] = [];
      const reader = (async () => {
        for (let i = 0; i < 6; i++) received.push(((await keepsUp.next()).value as Delivery).event.type);
      })();
      await commitEvents(6, 'SLOW_B');
      await reader;
      await new Promise((r) => setTimeout(r, 1500));
      expect(evicted).toBe(1);
      expect(svc.listenerCount()).toBe(1);
      await expect(stuck.next()).rejects.toMatchObject({ code: 'SLOW_CONSUMER' });
      expect(received).toHaveLength(6);
      await keepsUp.return!();
    } finally {
      await svc.stop();
    }
  });
});

describe('cost per event', () => {
  let clients: WsClient[] = [];
  afterAll(async () => {
    for (const c of clients) await c.dispose();
    clients = [];
  });

  it('reads the log once per batch and executes once for all subscribers with the same document and visibility', async () => {
    const query = `subscription($w: ID) { workspaceEvents(workspaceId: $w) { id type workspaceId } }`;
    const base = server.services.subscriptions.listenerCount();
    const subs = [];
    for (let i = 0; i < 20; i++) {
      const c = connectWs(server);
      clients.push(c);
      subs.push(c.subscribe(query, { w: workspaceId }).collected);
    }
    await waitForListeners(server, base + 20);
    const fanout = server.services.subscriptions.fanout;
    const reads = fanout.stats.reads;
    const executions = sharedExecutionStats.executions;
    const reused = sharedExecutionStats.reused;
    await commitEvents(1, 'COST');
    for (const s of subs) await s.count(1);
    expect(subs.every((s) => s.results[0]!.data.workspaceEvents.type === 'COST')).toBe(true);
    // One wake, one read (a concurrent safety poll may add one that finds nothing).
    expect(fanout.stats.reads - reads).toBeLessThanOrEqual(2);
    expect(sharedExecutionStats.executions - executions).toBe(1);
    expect(sharedExecutionStats.reused - reused).toBe(19);
  });
});
