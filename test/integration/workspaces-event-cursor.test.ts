// WorkspaceConnection.eventCursor comes from the page's own snapshot (API.md, "watch without missing
// anything"): while other clients keep changing statuses, every page read must show each workspace in
// exactly the status its last status event at or below the cursor says, and subscribing after that
// cursor must bring the page to the true final state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { connectWs } from '../support/subscriptions.js';
import { createExternal } from '../graphql/fixtures.js';

const READ = '{ workspaces(first: 100) { eventCursor edges { node { id status } } } }';

interface StatusEvent {
  id: bigint;
  workspaceId: string;
  status: string;
}

describe('WorkspaceConnection.eventCursor', () => {
  let s: TestServer;
  const ids: string[] = [];

  beforeAll(async () => {
    // The churn and the reads are thousands of requests a minute from one address.
    s = await startTestServer({ RATE_LIMIT_PER_MIN: '1000000' });
    for (let i = 0; i < 8; i++) ids.push((await createExternal(s, { name: `w${i}` })).workspace.id);
  });
  afterAll(async () => {
    await s?.stop();
  });

  /** Every status event, through the public API (newest first, paged). */
  async function statusEvents(): Promise<StatusEvent[]> {
    const out: StatusEvent[] = [];
    let after: string | null = null;
    for (;;) {
      const r: any = await s.gql(
        'query($after: String) { events(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id workspaceId status } } } }',
        { after },
      );
      for (const e of r.data.events.edges) if (e.node.status) out.push({ id: BigInt(e.node.id), workspaceId: e.node.workspaceId, status: e.node.status });
      if (!r.data.events.pageInfo.hasNextPage) return out;
      after = r.data.events.pageInfo.endCursor;
    }
  }

  /** Pauses and resumes the workspaces over and over (each a committed status event) until stopped. */
  function churn(workers: number): { stop: () => Promise<number> } {
    let running = true;
    let changes = 0;
    const loops = Array.from({ length: workers }, async (_, w) => {
      for (let n = 0; running; n++) {
        const id = ids[(w + n * workers) % ids.length]!;
        const pause = await s.gql('mutation($id: ID!) { pauseWorkspace(id: $id) { __typename } }', { id });
        if (pause.data?.pauseWorkspace.__typename === 'PauseWorkspaceSuccess') changes++;
        const resume = await s.gql('mutation($id: ID!) { resumeWorkspace(id: $id) { __typename } }', { id });
        if (resume.data?.resumeWorkspace.__typename === 'ResumeWorkspaceSuccess') changes++;
      }
    });
    return {
      stop: async () => {
        running = false;
        await Promise.all(loops);
        return changes;
      },
    };
  }

  it('shows every workspace as the log says at the cursor, in every read taken during concurrent changes', async () => {
    const reads: Array<{ cursor: bigint; statuses: Map<string, string> }> = [];
    const changes = churn(3);
    try {
      const until = Date.now() + 2_500;
      while (Date.now() < until) {
        const r = await s.gql(READ);
        expect(r.errors).toBeUndefined();
        const w = r.data.workspaces;
        reads.push({ cursor: BigInt(w.eventCursor), statuses: new Map(w.edges.map((e: any) => [e.node.id, e.node.status])) });
      }
    } finally {
      await changes.stop();
    }
    const changed = await changes.stop();
    expect(changed).toBeGreaterThan(20);
    expect(new Set(reads.map((r) => r.cursor)).size).toBeGreaterThan(5);

    const events = (await statusEvents()).sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const read of reads) {
      for (const [id, status] of read.statuses) {
        const last = events.filter((e) => e.workspaceId === id && e.id <= read.cursor).pop();
        expect(status, `workspace ${id} at cursor ${read.cursor}`).toBe(last?.status);
      }
    }
  });

  it('reaches the true state: a page, then workspaceStatusChanged after its eventCursor, applied in order', async () => {
    const ws = connectWs(s);
    try {
      const changes = churn(2);
      let first: any;
      let sub: ReturnType<typeof ws.subscribe>;
      try {
        await new Promise((r) => setTimeout(r, 300));
        first = (await s.gql(READ)).data.workspaces;
        sub = ws.subscribe('subscription($after: ID) { workspaceStatusChanged(afterEventId: $after) { event { id workspaceId status } } }', {
          after: first.eventCursor,
        });
        await new Promise((r) => setTimeout(r, 700));
      } finally {
        await changes.stop();
      }
      const state = new Map<string, string>(first.edges.map((e: any) => [e.node.id, e.node.status]));
      const head = (await s.gql('{ eventCursor }')).data.eventCursor;
      await sub.collected.until((c) => c.results.some((r) => BigInt(r.data.workspaceStatusChanged.event.id) >= BigInt(head)) || BigInt(head) <= BigInt(first.eventCursor));
      for (const r of sub.collected.results) {
        const e = r.data.workspaceStatusChanged.event;
        if (state.has(e.workspaceId)) state.set(e.workspaceId, e.status);
      }
      const truth = (await s.gql(READ)).data.workspaces;
      expect(Object.fromEntries(state)).toEqual(Object.fromEntries(truth.edges.map((e: any) => [e.node.id, e.node.status])));
      sub.unsubscribe();
    } finally {
      await ws.dispose();
    }
  });

  it('is the same id as Query.eventCursor when nothing changes', async () => {
    const r = await s.gql('{ eventCursor workspaces(first: 1) { eventCursor } }');
    expect(r.data.workspaces.eventCursor).toBe(r.data.eventCursor);
    expect(r.data.eventCursor).toMatch(/^[1-9][0-9]*$/);
  });
});
