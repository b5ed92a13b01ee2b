// The board survives its server being killed: a server process on a fixed port (PostgreSQL server
// database) is SIGKILLed under an open page; while it is down a second instance on the same database
// takes changes, and more arrive just after the first one is back. The page must show it lost the
// link, then converge to the true state with nothing missed: every status, the counts, the activity
// (which has no replay) and a timeline identical, event for event, to the server's history.
import { createServer } from 'node:net';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openE2eDatabase, spawnServer, type ChildServer, type E2eDatabase } from '../support/docker-e2e.js';
import { agentPost, ensureBoardBuilt, heartbeat, launchChromium, row, runBoardTests, signIn } from '../support/board.js';
import { TEST_ADMIN_TOKEN } from '../support/server.js';

const CREATE_EXTERNAL = `mutation($name: String!) { createWorkspace(input: { name: $name, runtime: "external" }) {
  ... on CreateWorkspaceSuccess { token workspace { id } } } }`;
const PAUSE = 'mutation($id: ID!) { pauseWorkspace(id: $id) { __typename } }';
const TRUTH = `{ workspaces(first: 100) { edges { node { id status activeTasks } } } workspaceCounts { status count } }`;
const HISTORY = 'query($id: ID!) { workspace(id: $id) { events(first: 100) { edges { node { id } } } } }';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe.skipIf(!runBoardTests)('fleet board across a server kill and restart', () => {
  let e2e: E2eDatabase;
  let env: Record<string, string>;
  let browser: Browser;
  const servers: ChildServer[] = [];

  const start = async (extra: Record<string, string> = {}) => {
    const s = await spawnServer({ ...env, ...extra });
    servers.push(s);
    return s;
  };

  beforeAll(async () => {
    await ensureBoardBuilt();
    e2e = await openE2eDatabase();
    env = { ...e2e.env, CONTAINER_RUNTIME: 'none', ACTIVITY_PUSH_INTERVAL_MS: '200' };
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await s.kill('SIGKILL').catch(() => {});
    await e2e?.close();
  });

  it('converges to the true state with nothing missed', async () => {
    const port = String(await freePort());
    let a = await start({ PORT: port });
    const agents: Array<{ id: string; token: string }> = [];
    for (const name of ['alpha', 'beta', 'gamma']) {
      const r = await a.gql(CREATE_EXTERNAL, { name });
      agents.push({ id: r.data.createWorkspace.workspace.id, token: r.data.createWorkspace.token });
    }
    const [alpha, beta, gamma] = agents as [(typeof agents)[0], (typeof agents)[0], (typeof agents)[0]];
    await agentPost(a.url, '/registry/register', alpha.token, { id: alpha.id, url: 'http://127.0.0.1:9', agent_card: {} });

    // Two tabs: the fleet, and alpha's page (its timeline lives on replay alone).
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const fleet = await context.newPage();
    await signIn(fleet, a.url, TEST_ADMIN_TOKEN);
    await expect.poll(() => row(fleet, alpha.id).getAttribute('data-status')).toBe('ONLINE');
    const detail: Page = await context.newPage();
    await signIn(detail, a.url, TEST_ADMIN_TOKEN);
    await detail.goto(`${a.url}/#/workspaces/${alpha.id}`);
    await detail.locator('[data-event-type="WORKSPACE_ONLINE"]').waitFor();

    await a.kill('SIGKILL');
    await expect.poll(() => fleet.locator('[data-link]').getAttribute('data-link')).not.toBe('live');

    // While it is down, another instance on the same database takes changes.
    const b = await start();
    await agentPost(b.url, '/registry/heartbeat', alpha.token, heartbeat(alpha.id, { error_rate: 0.9 })); // → DEGRADED
    await agentPost(b.url, '/registry/register', beta.token, { id: beta.id, url: 'http://127.0.0.1:9', agent_card: {} }); // → ONLINE
    await agentPost(b.url, '/registry/heartbeat', beta.token, heartbeat(beta.id, { active_tasks: 2, current_task: 'while you were away' }));
    expect((await b.gql(PAUSE, { id: gamma.id })).data.pauseWorkspace.__typename).toBe('PauseWorkspaceSuccess');

    // The first instance comes back on its port; more changes right away, before the page is back.
    a = await start({ PORT: port });
    await agentPost(a.url, '/registry/heartbeat', alpha.token, heartbeat(alpha.id)); // → ONLINE again
    const late = await a.gql(CREATE_EXTERNAL, { name: 'delta' });
    const delta = late.data.createWorkspace.workspace.id as string;

    await expect.poll(() => fleet.locator('[data-link]').getAttribute('data-link'), { timeout: 15_000 }).toBe('live');
    const truth = (await a.gql(TRUTH)).data;
    for (const { node } of truth.workspaces.edges as Array<{ node: { id: string; status: string; activeTasks: number } }>) {
      await expect.poll(() => row(fleet, node.id).getAttribute('data-status'), { timeout: 5000 }).toBe(node.status);
    }
    expect(await row(fleet, delta).count()).toBe(1);
    await expect.poll(() => row(fleet, beta.id).locator('[data-field="current-task"]').textContent()).toBe('while you were away');
    for (const { status, count } of truth.workspaceCounts as Array<{ status: string; count: number }>) {
      await expect.poll(() => fleet.locator(`[data-count-status="${status}"] .legend-count`).textContent()).toBe(String(count));
    }

    // alpha's timeline: exactly the server's history, the events made while the page was cut off included.
    const history = ((await a.gql(HISTORY, { id: alpha.id })).data.workspace.events.edges as Array<{ node: { id: string } }>).map((e) => e.node.id);
    expect(history.length).toBeGreaterThanOrEqual(4); // created, online, degraded, online
    await expect
      .poll(() => detail.locator('[data-event-id]').evaluateAll((items) => items.map((i) => i.getAttribute('data-event-id'))), { timeout: 10_000 })
      .toEqual(history);
    expect(await detail.locator('.page-head [data-status]').getAttribute('data-status')).toBe('ONLINE');
    await context.close();
  }, 120_000);

  it('reads the state again when what it missed is no longer kept (EVENTS_EXPIRED), then follows live again', async () => {
    const port = String(await freePort());
    let a = await start({ PORT: port });
    const r = await a.gql(CREATE_EXTERNAL, { name: 'epsilon' });
    const eps = { id: r.data.createWorkspace.workspace.id as string, token: r.data.createWorkspace.token as string };
    await agentPost(a.url, '/registry/register', eps.token, { id: eps.id, url: 'http://127.0.0.1:9', agent_card: {} });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const fleet = await context.newPage();
    await signIn(fleet, a.url, TEST_ADMIN_TOKEN);
    await expect.poll(() => row(fleet, eps.id).getAttribute('data-status')).toBe('ONLINE');
    const detail = await context.newPage();
    await signIn(detail, a.url, TEST_ADMIN_TOKEN);
    await detail.goto(`${a.url}/#/workspaces/${eps.id}`);
    await detail.locator('[data-event-type="WORKSPACE_ONLINE"]').waitFor();

    await a.kill('SIGKILL');
    const b = await start();
    await agentPost(b.url, '/registry/heartbeat', eps.token, heartbeat(eps.id, { error_rate: 0.9 })); // → DEGRADED
    // Retention, injected: every event so far is deleted, so the page cannot be given what it missed.
    const sql = new pg.Client({ connectionString: e2e.db.url });
    await sql.connect();
    await sql.query('DELETE FROM workspace_events');
    await sql.end();
    await agentPost(b.url, '/registry/heartbeat', eps.token, heartbeat(eps.id, { error_rate: 0.95, current_task: 'after the gap' }));
    await agentPost(b.url, '/registry/heartbeat', eps.token, heartbeat(eps.id, { current_task: 'after the gap' })); // → ONLINE

    a = await start({ PORT: port });
    await expect.poll(() => fleet.locator('[data-link]').getAttribute('data-link'), { timeout: 15_000 }).toBe('live');
    await expect.poll(() => row(fleet, eps.id).locator('[data-field="current-task"]').textContent(), { timeout: 10_000 }).toBe('after the gap');
    expect(await row(fleet, eps.id).getAttribute('data-status')).toBe('ONLINE');
    // Subscribed again after a fresh cursor: the next change is live on both pages.
    await agentPost(a.url, '/registry/heartbeat', eps.token, heartbeat(eps.id, { error_rate: 0.9 }));
    await row(fleet, eps.id).locator('[data-status="DEGRADED"]').waitFor({ timeout: 3000 });
    await detail.locator('.page-head [data-status="DEGRADED"]').waitFor({ timeout: 3000 });
    const history = ((await a.gql(HISTORY, { id: eps.id })).data.workspace.events.edges as Array<{ node: { id: string } }>).map((e) => e.node.id);
    await expect
      .poll(() => detail.locator('[data-event-id]').evaluateAll((items) => items.map((i) => i.getAttribute('data-event-id'))), { timeout: 10_000 })
      .toEqual(history);
    await context.close();
  }, 120_000);
});
