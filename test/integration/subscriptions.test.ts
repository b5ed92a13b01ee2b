// Subscriptions over real graphql-ws and SSE clients against a running server: order and statuses,
// replay with afterEventId, the credential rules, and listener teardown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';
import { connectWs, subscribeSse, waitForListeners, type WsClient } from '../support/subscriptions.js';

const STATUS_CHANGES = `subscription($workspaceId: ID, $afterEventId: ID) {
  workspaceStatusChanged(workspaceId: $workspaceId, afterEventId: $afterEventId) {
    event { id type workspaceId status previousStatus }
    workspace { id name status }
  }
}`;
const EVENTS = `subscription($workspaceId: ID, $afterEventId: ID) {
  workspaceEvents(workspaceId: $workspaceId, afterEventId: $afterEventId) { id type workspaceId status previousStatus }
}`;

let server: TestServer;
const clients: WsClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await server?.stop();
});

function ws(token: string | null = TEST_ADMIN_TOKEN): WsClient {
  const c = connectWs(server, token);
  clients.push(c);
  return c;
}

async function createExternal(name: string): Promise<{ id: string; token: string }> {
  const r = await server.gql(
    `mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) {
       __typename ... on CreateWorkspaceSuccess { workspace { id status } token } } }`,
    { input: { name, runtime: 'external' } },
  );
  expect(r.data.createWorkspace.__typename).toBe('CreateWorkspaceSuccess');
  return { id: r.data.createWorkspace.workspace.id, token: r.data.createWorkspace.token };
}

async function register(id: string, token: string): Promise<void> {
  const res = await server.http('/registry/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ id, url: 'http://127.0.0.1:9', agent_card: { name: 'a' } }),
  });
  expect(res.status).toBe(200);
}

async function deleteWorkspace(id: string): Promise<void> {
  const r = await server.gql(`mutation($id: ID!) { deleteWorkspace(id: $id, confirm: true) { __typename } }`, { id });
  expect(r.data.deleteWorkspace.__typename).toBe('DeleteWorkspaceSuccess');
}

async function eventCursor(): Promise<string> {
  const r = await server.gql(`{ eventCursor }`);
  return r.data.eventCursor;
}

describe('workspaceStatusChanged over graphql-ws', () => {
  it('delivers each status change of a workspace in commit order with previousStatus and the workspace as delivered', async () => {
    const before = await eventCursor();
    const { id, token } = await createExternal('order');
    const { collected } = ws().subscribe(STATUS_CHANGES, { workspaceId: id, afterEventId: before });
    await register(id, token);
    await deleteWorkspace(id);
    await collected.count(3);
    const events = collected.results.map((r) => r.data.workspaceStatusChanged.event);
    expect(events.map((e) => [e.previousStatus, e.status])).toEqual([
      [null, 'AWAITING_AGENT'],
      ['AWAITING_AGENT', 'ONLINE'],
      ['ONLINE', 'REMOVED'],
    ]);
    expect(events.map((e) => e.type)).toEqual(['WORKSPACE_AWAITING_AGENT', 'WORKSPACE_ONLINE', 'WORKSPACE_REMOVED']);
    const ids = events.map((e) => BigInt(e.id));
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
    expect(new Set(ids).size).toBe(3);
    // Status events only: TOKEN_ISSUED of the creation is not among them.
    expect(collected.results.every((r) => r.data.workspaceStatusChanged.event.status !== null)).toBe(true);
    expect(collected.results.at(-1)!.data.workspaceStatusChanged.workspace).toMatchObject({ id, name: 'order' });
  });

  it('gives the workspace as it is when delivered: null once the workspace is purged', async () => {
    const before = await eventCursor();
    const { id } = await createExternal('purged');
    await deleteWorkspace(id);
    const purge = await server.gql(`mutation($id: ID!) { deleteWorkspace(id: $id, purge: true) { __typename ... on DeleteWorkspaceSuccess { purged } } }`, {
      id,
    });
    expect(purge.data.deleteWorkspace).toMatchObject({ __typename: 'DeleteWorkspaceSuccess', purged: true });
    const { collected } = ws().subscribe(STATUS_CHANGES, { workspaceId: id, afterEventId: before });
    await collected.count(2);
    expect(collected.results.map((r) => r.data.workspaceStatusChanged.event.status)).toEqual(['AWAITING_AGENT', 'REMOVED']);
    expect(collected.results.map((r) => r.data.workspaceStatusChanged.workspace)).toEqual([null, null]);
  });

  it('without afterEventId delivers only what is committed after the subscription is established', async () => {
    const { id, token } = await createExternal('live-only');
    const listeners = server.services.subscriptions.listenerCount();
    const { collected, unsubscribe } = ws().subscribe(STATUS_CHANGES, { workspaceId: id });
    await waitForListeners(server, listeners + 1);
    await register(id, token);
    await collected.count(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(collected.results).toHaveLength(1);
    expect(collected.results[0]!.data.workspaceStatusChanged.event).toMatchObject({ previousStatus: 'AWAITING_AGENT', status: 'ONLINE' });
    unsubscribe();
  });

  it('workspaceEvents carries every event type, workspaceStatusChanged only status events', async () => {
    const before = await eventCursor();
    const { id } = await createExternal('types');
    const c = ws();
    const all = c.subscribe(EVENTS, { workspaceId: id, afterEventId: before }).collected;
    const status = c.subscribe(STATUS_CHANGES, { workspaceId: id, afterEventId: before }).collected;
    await status.count(1);
    await all.until((x) => x.results.some((r) => r.data.workspaceEvents.type === 'TOKEN_ISSUED'), 5000, 'TOKEN_ISSUED');
    expect(all.results.map((r) => r.data.workspaceEvents.type)).toContain('WORKSPACE_AWAITING_AGENT');
    expect(status.results.map((r) => r.data.workspaceStatusChanged.event.type)).toEqual(['WORKSPACE_AWAITING_AGENT']);
  });
});

describe('replay with afterEventId', () => {
  it('replays after a disconnect with no gap and no duplicate, then continues live', async () => {
    const start = await eventCursor();
    const a = await createExternal('replay-a');
    const first = ws();
    const sub = first.subscribe(EVENTS, { afterEventId: start });
    await sub.collected.until((c) => c.results.some((r) => r.data.workspaceEvents.workspaceId === a.id), 5000, 'first event');
    const seen = sub.collected.results.map((r) => r.data.workspaceEvents.id as string);
    await first.dispose();
    // Changes while nobody listens.
    await register(a.id, a.token);
    const b = await createExternal('replay-b');
    const second = ws().subscribe(EVENTS, { afterEventId: seen.at(-1) }).collected;
    await second.until((c) => c.results.some((r) => r.data.workspaceEvents.workspaceId === b.id), 5000, 'replayed events');
    await deleteWorkspace(b.id);
    await second.until((c) => c.results.some((r) => r.data.workspaceEvents.status === 'REMOVED'), 5000, 'live REMOVED');
    const ids = [...seen, ...second.results.map((r) => r.data.workspaceEvents.id as string)];
    expect(new Set(ids).size).toBe(ids.length);
    // Compared with the log itself: exactly the committed rows after `start`, in id order.
    const page = await server.gql(`{ events(first: 100) { edges { node { id } } } }`);
    const logIds = (page.data.events.edges as Array<{ node: { id: string } }>)
      .map((e) => e.node.id)
      .filter((x) => BigInt(x) > BigInt(start))
      .reverse();
    expect(ids).toEqual(logIds);
  });

  it('answers BAD_USER_INPUT for a malformed afterEventId', async () => {
    for (const bad of ['abc', '-1', '1.5', '99999999999999999999']) {
      const { collected } = ws().subscribe(EVENTS, { afterEventId: bad });
      await collected.ended();
      expect(collected.errorCode(), bad).toBe('BAD_USER_INPUT');
    }
  });

  it('ends with EVENTS_EXPIRED when events after afterEventId were deleted by retention', async () => {
    const { id } = await createExternal('expired');
    const rows = await server.db.prisma.$queryRaw<{ id: string }[]>`SELECT min(id)::text AS id FROM workspace_events`;
    const oldest = BigInt(rows[0]!.id);
    // Retention deletes the oldest events (as deleteExpired would once they are old enough).
    await server.db.prisma.$executeRaw`DELETE FROM workspace_events WHERE id <= ${oldest + 1n}`;
    const { collected } = ws().subscribe(EVENTS, { afterEventId: String(oldest - 1n) });
    await collected.ended();
    expect(collected.errorCode()).toBe('EVENTS_EXPIRED');
    // Right after the last deleted id is still complete: no error, the remaining events replay.
    const ok = ws().subscribe(EVENTS, { workspaceId: id, afterEventId: String(oldest + 1n) }).collected;
    await ok.count(1);
    expect(ok.errorCode()).toBeUndefined();
    expect(ok.results[0]!.data.workspaceEvents.workspaceId).toBe(id);
  });
});

describe('credentials', () => {
  it('closes the connection with 4403 at connection_init for an invalid credential', async () => {
    const c = ws('not-a-valid-token-at-all-0123456789');
    const { collected } = c.subscribe(EVENTS, {});
    await collected.ended();
    expect(c.closes).toContain(4403);
  });

  it('accepts no credential as ANONYMOUS and answers a subscribe with UNAUTHENTICATED', async () => {
    const c = ws(null);
    const { collected } = c.subscribe(EVENTS, {});
    await collected.ended();
    expect(collected.errorCode()).toBe('UNAUTHENTICATED');
    expect(c.closes).not.toContain(4403);
  });

  it('gives a workspace token only its own workspace, and FORBIDDEN for another id', async () => {
    const mine = await createExternal('mine');
    const other = await createExternal('other');
    const before = await eventCursor();
    const c = ws(mine.token);
    const forbidden = c.subscribe(EVENTS, { workspaceId: other.id }).collected;
    await forbidden.ended();
    expect(forbidden.errorCode()).toBe('FORBIDDEN');
    const own = c.subscribe(STATUS_CHANGES, { afterEventId: before }).collected;
    await register(other.id, other.token);
    await register(mine.id, mine.token);
    await own.count(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(own.results.map((r) => r.data.workspaceStatusChanged.event.workspaceId)).toEqual([mine.id]);
  });

  it('ends a workspace token subscription after the REMOVED event when its workspace is deleted', async () => {
    const w = await createExternal('removed');
    const before = await eventCursor();
    const { collected } = ws(w.token).subscribe(STATUS_CHANGES, { afterEventId: before });
    await register(w.id, w.token);
    await collected.count(1);
    await deleteWorkspace(w.id);
    await collected.ended();
    expect(collected.results.map((r) => r.data.workspaceStatusChanged.event.status)).toEqual(['ONLINE', 'REMOVED']);
  });

  it('ends a workspace token subscription when the token is revoked', async () => {
    const w = await createExternal('revoked');
    const t = await server.gql(`{ workspace(id: "${w.id}") { tokens { id } } }`);
    const tokenId = t.data.workspace.tokens[0].id;
    const { collected } = ws(w.token).subscribe(EVENTS, {});
    await waitForListeners(server, server.services.subscriptions.listenerCount() + 1).catch(() => {});
    const r = await server.gql(`mutation { revokeWorkspaceToken(workspaceId: "${w.id}", tokenId: "${tokenId}") { __typename } }`);
    expect(r.data.revokeWorkspaceToken.__typename).toBe('RevokeWorkspaceTokenSuccess');
    await collected.ended();
    expect(collected.error).toBeNull();
  });
});

describe('SSE', () => {
  it('delivers status changes over text/event-stream with the Authorization header', async () => {
    const before = await eventCursor();
    const w = await createExternal('sse');
    const sse = subscribeSse(server, STATUS_CHANGES, { workspaceId: w.id, afterEventId: before });
    expect(await sse.status).toBe(200);
    await register(w.id, w.token);
    await sse.collected.count(2);
    expect(sse.collected.results.map((r) => r.data.workspaceStatusChanged.event.status)).toEqual(['AWAITING_AGENT', 'ONLINE']);
    sse.stop();
  });

  it('replays with afterEventId over SSE too, then continues live without a duplicate', async () => {
    const before = await eventCursor();
    const w = await createExternal('sse-replay');
    await register(w.id, w.token);
    const sse = subscribeSse(server, EVENTS, { workspaceId: w.id, afterEventId: before });
    await sse.collected.until((c) => c.results.some((r) => r.data.workspaceEvents.status === 'ONLINE'), 5000, 'the replay');
    await deleteWorkspace(w.id);
    await sse.collected.until((c) => c.results.some((r) => r.data.workspaceEvents.status === 'REMOVED'), 5000, 'live REMOVED');
    const ids = sse.collected.results.map((r) => BigInt(r.data.workspaceEvents.id));
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => (a < b ? -1 : 1)));
    sse.stop();
  });

  it('answers an anonymous SSE subscribe with UNAUTHENTICATED', async () => {
    const sse = subscribeSse(server, EVENTS, {}, null);
    await sse.collected.until((c) => c.results.length > 0 || c.done, 5000, 'an answer');
    expect(sse.collected.errorCode()).toBe('UNAUTHENTICATED');
    sse.stop();
  });
});

describe('teardown', () => {
  it('removes every fan-out listener when clients disconnect', async () => {
    await waitForListeners(server, server.services.subscriptions.listenerCount());
    const base = server.services.subscriptions.listenerCount();
    const c1 = ws();
    const c2 = ws();
    for (let i = 0; i < 3; i++) c1.subscribe(EVENTS, {});
    c2.subscribe(STATUS_CHANGES, {});
    const sse = subscribeSse(server, EVENTS, {});
    await waitForListeners(server, base + 5);
    await c1.dispose();
    await c2.dispose();
    sse.stop();
    await waitForListeners(server, base);
    expect(server.services.subscriptions.listenerCount()).toBe(base);
  });
});
