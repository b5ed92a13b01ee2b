// workspaceActivity over real graphql-ws and SSE clients, with heartbeats over real HTTP: delivered
// after a committed heartbeat that changed what the agent reports, never after one that did not, at
// most once per workspace per ACTIVITY_PUSH_INTERVAL_MS with the newest state, within two seconds,
// without writing an event; filters and visibility as workspaceStatusChanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { connectWs, subscribeSse, type Collected, type WsClient } from '../support/subscriptions.js';
import { createExternal } from '../graphql/fixtures.js';

const ACTIVITY = `subscription($workspaceId: ID, $parentId: ID) {
  workspaceActivity(workspaceId: $workspaceId, parentId: $parentId) {
    id activeTasks currentTask lastErrorRate lastSampleError uptimeSeconds lastHeartbeatAt status
  }
}`;
const INTERVAL_MS = 400;

interface Beat {
  active_tasks?: number;
  current_task?: string;
  error_rate?: number;
  sample_error?: string;
  uptime_seconds?: number;
}

describe('workspaceActivity', () => {
  let s: TestServer;
  let ws: WsClient;

  beforeAll(async () => {
    s = await startTestServer({ ACTIVITY_PUSH_INTERVAL_MS: String(INTERVAL_MS), RATE_LIMIT_PER_MIN: '100000' });
    ws = connectWs(s);
  });
  afterAll(async () => {
    await ws?.dispose();
    await s?.stop();
  });

  /** Resolves once the heartbeat's answer arrived: it is committed by then. */
  async function heartbeat(agent: { id: string; token: string }, beat: Beat): Promise<number> {
    const res = await s.http('/registry/heartbeat', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${agent.token}` },
      body: JSON.stringify({
        workspace_id: agent.id,
        error_rate: 0,
        sample_error: '',
        active_tasks: 0,
        uptime_seconds: 1,
        current_task: '',
        runtime_state: '',
        ...beat,
      }),
    });
    expect(res.status).toBe(200);
    return Date.now();
  }

  async function agent(name: string, parentId?: string) {
    const { workspace, token } = await createExternal(s, { name, ...(parentId ? { parentId } : {}) });
    const a = { id: workspace.id, token };
    await heartbeat(a, {}); // ONLINE, and the baseline values
    // That heartbeat changed uptime (0 → 1): let its delivery, if an earlier test's subscriber was
    // still registered, go out before the test subscribes.
    await quiet(250);
    return a;
  }

  /** Subscribes and waits until the server has registered it (a heartbeat before that is not owed). */
  async function watch(vars: Record<string, unknown>, client = ws): Promise<{ collected: Collected; unsubscribe: () => void }> {
    const before = s.services.activity.subscriberCount();
    const sub = client.subscribe(ACTIVITY, vars);
    const until = Date.now() + 5_000;
    while (s.services.activity.subscriberCount() <= before && !sub.collected.done) {
      if (Date.now() > until) throw new Error('subscription not registered');
      await new Promise((r) => setTimeout(r, 10));
    }
    return sub;
  }

  const quiet = (ms = INTERVAL_MS + 300) => new Promise((r) => setTimeout(r, ms));
  const arrivals = (c: Collected) => c.results.map((r) => r.data.workspaceActivity);

  it('delivers the workspace within two seconds after a heartbeat that changed each reported field', async () => {
    const a = await agent('reporter');
    const { collected, unsubscribe } = await watch({ workspaceId: a.id });
    const changes: Beat[] = [{ uptime_seconds: 2 }, { active_tasks: 3 }, { current_task: 'indexing' }, { error_rate: 0.05 }, { sample_error: 'timeout' }];
    let state: Beat = {};
    for (const [i, change] of changes.entries()) {
      state = { ...state, ...change };
      const committed = await heartbeat(a, state);
      await collected.count(i + 1, 2_000);
      expect(Date.now() - committed).toBeLessThan(2_000);
      expect(arrivals(collected)[i]).toMatchObject({
        id: a.id,
        uptimeSeconds: state.uptime_seconds ?? 1,
        activeTasks: state.active_tasks ?? 0,
        // An empty string is stored as absent (the agent protocol reads it so).
        currentTask: state.current_task || null,
        lastErrorRate: state.error_rate ?? 0,
        lastSampleError: state.sample_error || null,
      });
      await quiet(INTERVAL_MS + 50);
    }
    unsubscribe();
  });

  it('delivers nothing after a heartbeat that changed nothing it reports, and writes no event', async () => {
    const a = await agent('steady');
    const { collected, unsubscribe } = await watch({ workspaceId: a.id });
    const cursor = (await s.gql('{ eventCursor }')).data.eventCursor;
    await heartbeat(a, {});
    await heartbeat(a, {});
    await quiet();
    expect(collected.results).toEqual([]);
    await heartbeat(a, { uptime_seconds: 50 });
    await collected.count(1);
    expect(arrivals(collected)).toMatchObject([{ uptimeSeconds: 50 }]);
    expect((await s.gql('{ eventCursor }')).data.eventCursor).toBe(cursor);
    unsubscribe();
  });

  it('delivers a workspace at most once per interval, and its newest state', async () => {
    const a = await agent('busy');
    const { collected, unsubscribe } = await watch({ workspaceId: a.id });
    const times: number[] = [];
    collected.push = ((push) => (r) => {
      times.push(Date.now());
      push(r);
    })(collected.push.bind(collected));
    for (let uptime = 100; uptime < 120; uptime++) await heartbeat(a, { uptime_seconds: uptime });
    await collected.until((c) => arrivals(c).at(-1)?.uptimeSeconds === 119, 2 * INTERVAL_MS + 2_000, 'the newest state');
    await quiet();
    const delivered = arrivals(collected).map((w) => w.uptimeSeconds);
    expect(delivered.at(-1)).toBe(119);
    // Twenty heartbeats took far less than twenty intervals: most were folded into a newer state.
    expect(delivered.length).toBeLessThan(20);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(INTERVAL_MS - 50);
    unsubscribe();
  });

  it('filters by workspaceId and parentId, and delivers every workspace the viewer may see without them', async () => {
    const parent = await agent('activity-parent');
    const child = await agent('activity-child', parent.id);
    const loner = await agent('activity-loner');
    const all = await watch({});
    const children = await watch({ parentId: parent.id });
    const one = await watch({ workspaceId: loner.id });
    await heartbeat(parent, { uptime_seconds: 7 });
    await heartbeat(child, { uptime_seconds: 7 });
    await heartbeat(loner, { uptime_seconds: 7 });
    await all.collected.until((c) => new Set(arrivals(c).map((w) => w.id)).size >= 3);
    await quiet();
    expect(new Set(arrivals(all.collected).map((w) => w.id))).toEqual(new Set([parent.id, child.id, loner.id]));
    expect(arrivals(children.collected).map((w) => w.id)).toEqual([child.id]);
    expect(arrivals(one.collected).map((w) => w.id)).toEqual([loner.id]);
    for (const sub of [all, children, one]) sub.unsubscribe();
  });

  it('shows a workspace token its own workspace only, refuses it parentId, and refuses no credential', async () => {
    const mine = await agent('mine');
    const other = await agent('not-mine');
    const own = connectWs(s, mine.token);
    const anonymous = connectWs(s, null);
    try {
      const sub = await watch({}, own);
      await heartbeat(other, { uptime_seconds: 9 });
      await heartbeat(mine, { uptime_seconds: 9 });
      await sub.collected.count(1);
      await quiet();
      expect(arrivals(sub.collected).map((w) => w.id)).toEqual([mine.id]);
      const forbidden = own.subscribe(ACTIVITY, { workspaceId: other.id });
      const children = own.subscribe(ACTIVITY, { parentId: mine.id });
      const refused = anonymous.subscribe(ACTIVITY, {});
      for (const c of [forbidden, children, refused]) await c.collected.until((x) => x.done || x.results.length > 0);
      expect(forbidden.collected.errorCode()).toBe('FORBIDDEN');
      expect(children.collected.errorCode()).toBe('FORBIDDEN');
      expect(refused.collected.errorCode()).toBe('UNAUTHENTICATED');
    } finally {
      await own.dispose();
      await anonymous.dispose();
    }
  });

  it("ends a workspace token's subscription when the token is revoked", async () => {
    const a = await agent('revoked');
    const tokenId = (await s.gql('query($id: ID!) { workspace(id: $id) { tokens { id } } }', { id: a.id })).data.workspace.tokens[0].id;
    const own = connectWs(s, a.token);
    try {
      const sub = await watch({}, own);
      const r = await s.gql('mutation($w: ID!, $t: ID!) { revokeWorkspaceToken(workspaceId: $w, tokenId: $t) { __typename } }', { w: a.id, t: tokenId });
      expect(r.data.revokeWorkspaceToken.__typename).toBe('RevokeWorkspaceTokenSuccess');
      await sub.collected.ended(5_000);
    } finally {
      await own.dispose();
    }
  });

  it('delivers over SSE too, and holds no subscriber once the client leaves', async () => {
    const a = await agent('sse');
    const before = s.services.activity.subscriberCount();
    const sse = subscribeSse(s, ACTIVITY, { workspaceId: a.id });
    try {
      const until = Date.now() + 5_000;
      while (s.services.activity.subscriberCount() === before && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      await heartbeat(a, { active_tasks: 2 });
      await sse.collected.count(1);
      expect(arrivals(sse.collected)).toMatchObject([{ id: a.id, activeTasks: 2 }]);
    } finally {
      sse.stop();
    }
    const until = Date.now() + 5_000;
    while (s.services.activity.subscriberCount() !== before && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(s.services.activity.subscriberCount()).toBe(before);
  });
});
