// workspaceLogs over real graphql-ws and SSE clients, with the in-memory runtime standing in for the
// daemon (test/e2e/workspace-logs-docker.test.ts runs the same path on real Docker): the tail, then new
// lines, completion when the container stops, completion with nothing when there is no container or
// no runtime, tail bounds, who may follow, and no runtime stream left open once the subscriber leaves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeRuntime, type FakeRuntime } from '../../services/runtime/fake.js';
import { containerNameFor } from '../../services/runtime/types.js';
import { createWorkspace, forceStatus } from '../support/lifecycle-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { connectWs, subscribeSse, type WsClient } from '../support/subscriptions.js';
import { createExternal, UNKNOWN_UUID } from '../graphql/fixtures.js';

const LOGS = `subscription($id: ID!, $tail: Int) { workspaceLogs(workspaceId: $id, tail: $tail) { stream text timestamp } }`;

async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('workspaceLogs', () => {
  let s: TestServer;
  let fake: FakeRuntime;
  let ws: WsClient;

  beforeAll(async () => {
    fake = createFakeRuntime();
    s = await startTestServer({}, { runtime: fake });
    ws = connectWs(s);
  });
  afterAll(async () => {
    await ws?.dispose();
    await s?.stop();
  });

  /** A container workspace whose (fake) container runs and has written `lines`. */
  async function running(lines: string[]): Promise<string> {
    const w = await createWorkspace(s, {});
    await s.services.lifecycle.idle();
    await forceStatus(s, w.id, 'ONLINE');
    const name = containerNameFor(w.id);
    expect(fake.find(name)?.running).toBe(true);
    if (lines.length) fake.appendLog(name, lines.map((l) => `${l}\n`).join(''));
    return w.id;
  }
  const texts = (c: { results: Array<{ data?: any }> }) => c.results.map((r) => r.data.workspaceLogs.text);
  const streamsClosed = () => s.services.logs.openStreams() === 0 && fake.openLogFollowers() === 0;

  it('sends the last `tail` lines, then each new line, and completes when the container stops', async () => {
    const id = await running(['one', 'two', 'three']);
    const sub = ws.subscribe(LOGS, { id, tail: 2 });
    await sub.collected.count(2);
    expect(texts(sub.collected)).toEqual(['two', 'three']);
    await until('the stream to open', () => fake.openLogFollowers() === 1);
    fake.appendLog(containerNameFor(id), 'four\n');
    fake.appendLog(containerNameFor(id), 'oops\n', 'stderr');
    await sub.collected.count(4);
    expect(sub.collected.results.slice(2).map((r) => r.data.workspaceLogs)).toMatchObject([
      { stream: 'STDOUT', text: 'four' },
      { stream: 'STDERR', text: 'oops' },
    ]);
    expect(sub.collected.results[3]!.data.workspaceLogs.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    fake.exit(containerNameFor(id), 0);
    await sub.collected.ended();
    expect(sub.collected.error).toBeNull();
    expect(streamsClosed()).toBe(true);
  });

  it('defaults tail to 100 and accepts 0 and 10,000; refuses -1 and 10,001 with BAD_USER_INPUT', async () => {
    const id = await running(Array.from({ length: 150 }, (_, i) => `line ${i}`));
    const byDefault = ws.subscribe(`subscription($id: ID!) { workspaceLogs(workspaceId: $id) { text } }`, { id });
    await byDefault.collected.count(100);
    expect(texts(byDefault.collected)[0]).toBe('line 50');
    byDefault.unsubscribe();
    const none = ws.subscribe(LOGS, { id, tail: 0 });
    const most = ws.subscribe(LOGS, { id, tail: 10_000 });
    await most.collected.count(150);
    await until('both streams to open', () => s.services.logs.openStreams() === 2);
    expect(none.collected.results).toEqual([]);
    none.unsubscribe();
    most.unsubscribe();
    for (const tail of [-1, 10_001]) {
      const bad = ws.subscribe(LOGS, { id, tail });
      await bad.collected.until((c) => c.done || c.results.length > 0);
      expect(bad.collected.errorCode(), String(tail)).toBe('BAD_USER_INPUT');
    }
    await until('no stream left open', streamsClosed);
  });

  it('holds no runtime stream open once a graphql-ws or SSE subscriber leaves', async () => {
    const id = await running(['a', 'b']);
    const subs = Array.from({ length: 5 }, () => ws.subscribe(LOGS, { id, tail: 1 }));
    const sse = subscribeSse(s, LOGS, { id, tail: 1 });
    for (const sub of subs) await sub.collected.count(1);
    await sse.collected.count(1);
    expect(s.services.logs.openStreams()).toBe(6);
    expect(fake.openLogFollowers()).toBe(6);
    for (const sub of subs) sub.unsubscribe();
    sse.stop();
    await until('every stream closed', streamsClosed);
    // And a whole connection going away closes its streams too.
    const other = connectWs(s);
    other.subscribe(LOGS, { id, tail: 1 });
    await until('the stream to open', () => s.services.logs.openStreams() === 1);
    await other.dispose();
    await until('every stream closed', streamsClosed);
  });

  it('completes within a second with nothing when there is no container or no runtime', async () => {
    const external = (await createExternal(s)).workspace.id;
    const gone = await running(['x']);
    await s.gql('mutation($id: ID!) { pauseWorkspace(id: $id) { __typename } }', { id: gone });
    await s.services.lifecycle.idle();
    expect(fake.find(containerNameFor(gone))).toBeUndefined();
    const down = await running(['y']);
    const cases: Array<[string, string, () => void]> = [
      ['an external workspace', external, () => {}],
      ['a workspace whose container was removed', gone, () => {}],
      ['an unknown id', UNKNOWN_UUID, () => {}],
      ['a non-UUID id', 'nope', () => {}],
      ['an unreachable runtime', down, () => fake.setAvailable(false)],
    ];
    try {
      for (const [label, id, before] of cases) {
        before();
        const started = Date.now();
        const sub = ws.subscribe(LOGS, { id, tail: 10 });
        await sub.collected.ended(1_000);
        expect(Date.now() - started, label).toBeLessThan(1_000);
        expect(sub.collected.results, label).toEqual([]);
        expect(sub.collected.error, label).toBeNull();
      }
    } finally {
      fake.setAvailable(true);
    }
    expect(streamsClosed()).toBe(true);
  });

  it('is for the admin and writable org tokens only', async () => {
    const id = await running(['secret output']);
    const owner = await createExternal(s);
    const org = await s.gql('mutation { createOrgToken { ... on CreateOrgTokenSuccess { token } } }');
    const ro = await s.gql('mutation { createOrgToken(readOnly: true) { ... on CreateOrgTokenSuccess { token } } }');
    const orgClient = connectWs(s, org.data.createOrgToken.token);
    const roClient = connectWs(s, ro.data.createOrgToken.token);
    const ownClient = connectWs(s, owner.token);
    const anonymous = connectWs(s, null);
    try {
      const allowed = orgClient.subscribe(LOGS, { id, tail: 1 });
      await allowed.collected.count(1);
      expect(texts(allowed.collected)).toEqual(['secret output']);
      allowed.unsubscribe();
      for (const [client, code, target] of [
        [roClient, 'FORBIDDEN', id],
        [ownClient, 'FORBIDDEN', owner.workspace.id],
        [anonymous, 'UNAUTHENTICATED', id],
      ] as const) {
        const sub = client.subscribe(LOGS, { id: target, tail: 1 });
        await sub.collected.until((c) => c.done || c.results.length > 0);
        expect(sub.collected.errorCode()).toBe(code);
        expect(texts({ results: sub.collected.results.filter((r) => r.data) })).toEqual([]);
      }
    } finally {
      for (const c of [orgClient, roClient, ownClient, anonymous]) await c.dispose();
    }
    await until('every stream closed', streamsClosed);
  });
});
