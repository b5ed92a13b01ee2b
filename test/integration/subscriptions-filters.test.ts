// workspaceStatusChanged(parentId:, status:) over real graphql-ws and SSE clients: the filters keep
// exactly the matching status changes, combine with workspaceId and afterEventId, and the replay of
// afterEventId applies them too (API.md "Frontends").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { connectWs, subscribeSse, waitForListeners, type Collected, type WsClient } from '../support/subscriptions.js';
import { createExternal } from '../graphql/fixtures.js';

const CHANGES = `subscription($workspaceId: ID, $parentId: ID, $status: [WorkspaceStatus!], $afterEventId: ID) {
  workspaceStatusChanged(workspaceId: $workspaceId, parentId: $parentId, status: $status, afterEventId: $afterEventId) {
    event { id workspaceId status }
  }
}`;

describe('workspaceStatusChanged filters', () => {
  let s: TestServer;
  let ws: WsClient;
  let parent: { id: string; token: string };
  let other = '';
  const children: string[] = [];
  let grandchild = '';

  beforeAll(async () => {
    s = await startTestServer();
    ws = connectWs(s);
    const p = await createExternal(s, { name: 'parent' });
    parent = { id: p.workspace.id, token: p.token };
    other = (await createExternal(s, { name: 'other-root' })).workspace.id;
    for (let i = 0; i < 2; i++) children.push((await createExternal(s, { name: `child${i}`, parentId: parent.id })).workspace.id);
    grandchild = (await createExternal(s, { name: 'grandchild', parentId: children[0] })).workspace.id;
  });
  afterAll(async () => {
    await ws?.dispose();
    await s?.stop();
  });

  const cursor = async () => (await s.gql('{ eventCursor }')).data.eventCursor as string;
  const mutate = async (name: 'pauseWorkspace' | 'resumeWorkspace', id: string) => {
    const r = await s.gql(`mutation($id: ID!) { r: ${name}(id: $id) { __typename } }`, { id });
    expect(r.data.r.__typename).toMatch(/Success$/);
  };
  const seen = (c: Collected) => c.results.map((r) => [r.data.workspaceStatusChanged.event.workspaceId, r.data.workspaceStatusChanged.event.status]);
  /** Waits until the unfiltered stream has everything up to the current head. */
  async function caughtUp(all: Collected): Promise<void> {
    const head = await cursor();
    await all.until((c) => c.results.some((r) => r.data.workspaceStatusChanged.event.id === head));
  }

  it('carries the status changes of direct children only, live and in replay, and the same either way', async () => {
    const start = await cursor();
    const live = ws.subscribe(CHANGES, { parentId: parent.id });
    const everything = ws.subscribe(CHANGES, {});
    await waitForListeners(s, 2);
    // Pausing child0 also pauses the grandchild (cascade): only child0's change is a direct child's.
    await mutate('pauseWorkspace', children[0]!);
    await mutate('pauseWorkspace', parent.id);
    await mutate('resumeWorkspace', parent.id);
    await mutate('pauseWorkspace', other);
    await caughtUp(everything.collected);
    const expected = seen(everything.collected).filter(([id]) => children.includes(id as string));
    expect(expected.length).toBeGreaterThanOrEqual(3);
    await live.collected.count(expected.length);
    expect(seen(live.collected)).toEqual(expected);
    const replay = ws.subscribe(CHANGES, { parentId: parent.id, afterEventId: start });
    await replay.collected.count(expected.length);
    expect(seen(replay.collected)).toEqual(expected);
    for (const sub of [live, everything, replay]) sub.unsubscribe();
    await waitForListeners(s, 0);
  });

  it('keeps the children a workspace had when each change happened: a child moved away is no longer carried', async () => {
    const moved = (await createExternal(s, { name: 'mover', parentId: parent.id })).workspace.id;
    const elsewhere = (await createExternal(s, { name: 'elsewhere' })).workspace.id;
    const start = await cursor();
    await mutate('pauseWorkspace', moved);
    const r = await s.gql('mutation($id: ID!, $p: ID) { updateWorkspace(id: $id, input: { parentId: $p }) { __typename } }', { id: moved, p: elsewhere });
    expect(r.data.updateWorkspace.__typename).toBe('UpdateWorkspaceSuccess');
    await mutate('resumeWorkspace', moved);
    const underParent = ws.subscribe(CHANGES, { parentId: parent.id, workspaceId: moved, afterEventId: start });
    const underOther = ws.subscribe(CHANGES, { parentId: elsewhere, workspaceId: moved, afterEventId: start });
    await underParent.collected.count(1);
    await underOther.collected.count(1);
    expect(seen(underParent.collected)).toEqual([[moved, 'PAUSED']]);
    expect(seen(underOther.collected)).toEqual([[moved, 'AWAITING_AGENT']]);
    underParent.unsubscribe();
    underOther.unsubscribe();
  });

  it('keeps only changes to the listed statuses, combined with workspaceId, live and in replay', async () => {
    const start = await cursor();
    const onlyPaused = ws.subscribe(CHANGES, { status: ['PAUSED'] });
    const oneWorkspace = ws.subscribe(CHANGES, { status: ['AWAITING_AGENT', 'ONLINE'], workspaceId: other });
    const everything = ws.subscribe(CHANGES, {});
    await waitForListeners(s, 3);
    await mutate('resumeWorkspace', other);
    await mutate('pauseWorkspace', children[1]!);
    await mutate('resumeWorkspace', children[1]!);
    await caughtUp(everything.collected);
    const all = seen(everything.collected);
    const paused = all.filter(([, st]) => st === 'PAUSED');
    const mine = all.filter(([id, st]) => id === other && (st === 'AWAITING_AGENT' || st === 'ONLINE'));
    expect(paused.length).toBeGreaterThan(0);
    expect(mine).toEqual([[other, 'AWAITING_AGENT']]);
    await onlyPaused.collected.count(paused.length);
    await oneWorkspace.collected.count(1);
    expect(seen(onlyPaused.collected)).toEqual(paused);
    expect(seen(oneWorkspace.collected)).toEqual(mine);
    const replay = ws.subscribe(CHANGES, { status: ['PAUSED'], afterEventId: start });
    await replay.collected.count(paused.length);
    expect(seen(replay.collected)).toEqual(paused);
    // Nothing else arrived on the filtered streams meanwhile.
    expect(onlyPaused.collected.results).toHaveLength(paused.length);
    for (const sub of [onlyPaused, oneWorkspace, everything, replay]) sub.unsubscribe();
    await waitForListeners(s, 0);
  });

  it('applies the filters over SSE too', async () => {
    const start = await cursor();
    await mutate('pauseWorkspace', children[1]!);
    await mutate('resumeWorkspace', children[1]!);
    const sse = subscribeSse(s, CHANGES, { parentId: parent.id, status: ['AWAITING_AGENT'], afterEventId: start });
    try {
      await sse.collected.count(1);
      expect(seen(sse.collected)).toEqual([[children[1], 'AWAITING_AGENT']]);
    } finally {
      sse.stop();
    }
  });

  it('refuses parentId to a workspace token (FORBIDDEN): the children are other workspaces', async () => {
    const own = connectWs(s, parent.token);
    try {
      const sub = own.subscribe(CHANGES, { parentId: parent.id });
      await sub.collected.until((c) => c.done || c.results.length > 0);
      expect(sub.collected.errorCode()).toBe('FORBIDDEN');
      const mineOnly = own.subscribe(CHANGES, { status: ['PAUSED'] });
      await waitForListeners(s, 1);
      mineOnly.unsubscribe();
    } finally {
      await own.dispose();
    }
  });

  it('answers nothing for an unknown or non-UUID parent, and refuses an unknown status', async () => {
    const start = await cursor();
    const bad = ws.subscribe(CHANGES, { status: ['SLEEPING'] });
    await bad.collected.ended();
    expect(JSON.stringify([bad.collected.results, bad.collected.error])).toContain('SLEEPING');
    for (const parentId of ['not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
      const none = ws.subscribe(CHANGES, { parentId, afterEventId: '0' });
      const everything = ws.subscribe(CHANGES, { afterEventId: start });
      await mutate('pauseWorkspace', children[1]!);
      await mutate('resumeWorkspace', children[1]!);
      await everything.collected.count(2);
      await new Promise((r) => setTimeout(r, 200));
      expect(none.collected.results).toEqual([]);
      none.unsubscribe();
      everything.unsubscribe();
    }
  });
});
