// The fleet board in Chromium against a real server (real HTTP, real graphql-ws subscriptions, a
// PostgreSQL server): sign-in, live status and activity from agents outside the page, typed errors,
// the workspace page's tokens and secrets, the read-only view, and keyboard use of the dialogs.
// No container runtime here (CONTAINER_RUNTIME=none); board-docker.test.ts restarts a real container.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { createExternal, createWorkspace, eventually, mintWorkspaceToken } from '../graphql/fixtures.js';
import { agentPost, ensureBoardBuilt, heartbeat, launchChromium, row, runBoardTests, signIn, watchPageErrors } from '../support/board.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';

describe.skipIf(!runBoardTests)('fleet board in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    await ensureBoardBuilt();
    s = await startTestServer({ ACTIVITY_PUSH_INTERVAL_MS: '200', RATE_LIMIT_PER_MIN: '100000' });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });
  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    pageErrors = watchPageErrors(page);
  });
  afterEach(async () => {
    await context.close();
    // A failed request the test provoked is logged by the browser; anything thrown in the page is not expected.
    expect(pageErrors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  });

  const status = (id: string) => row(page, id).getAttribute('data-status');
  const countOf = async (st: string) => Number(await page.locator(`[data-count-status="${st}"] .legend-count`).textContent());

  it('serves the page with its own assets, gzipped, under a content security policy', async () => {
    const res = await s.http('/', { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await res.text();
    const script = /src="(\/assets\/app-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await s.http(script!);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await s.http('/assets/../package.json')).status).toBe(404);
    expect((await s.http('/assets/nope-1234.js')).status).toBe(404);
  });

  it('signs in with a token, refuses a bad one, keeps it for the tab and forgets it at sign-out', async () => {
    await page.goto(`${s.url}/`);
    await page.getByLabel('Token').fill('not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token was not accepted').waitFor();

    await page.getByLabel('Token').fill(TEST_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Fleet by status' }).waitFor();
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([TEST_ADMIN_TOKEN]);
    expect(await page.evaluate(() => Object.values(localStorage))).toEqual([]);

    await page.reload();
    await page.getByRole('heading', { name: 'Fleet by status' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('shows a status change made by an agent outside the page within a second, and the counts follow', async () => {
    const { workspace, token } = await createExternal(s, { name: 'external agent' });
    await signIn(page, s.url, TEST_ADMIN_TOKEN);
    await expect.poll(() => status(workspace.id)).toBe('AWAITING_AGENT');
    const onlineBefore = await countOf('ONLINE');

    const sent = Date.now();
    expect(await agentPost(s.url, '/registry/register', token, { id: workspace.id, url: 'http://127.0.0.1:9', agent_card: {} })).toBe(200);
    await row(page, workspace.id).locator('[data-status="ONLINE"]').waitFor({ timeout: 1000 });
    expect(Date.now() - sent).toBeLessThan(1000);
    await expect.poll(() => countOf('ONLINE')).toBe(onlineBefore + 1);

    // Degraded by its own heartbeat, then healthy again: each shows up, in order.
    await agentPost(s.url, '/registry/heartbeat', token, heartbeat(workspace.id, { error_rate: 0.9, sample_error: 'tool timeout' }));
    await row(page, workspace.id).locator('[data-status="DEGRADED"]').waitFor({ timeout: 1000 });
    await agentPost(s.url, '/registry/heartbeat', token, heartbeat(workspace.id));
    await row(page, workspace.id).locator('[data-status="ONLINE"]').waitFor({ timeout: 1000 });
  });

  it('shows activity (tasks, current task, error rate) as heartbeats report it', async () => {
    const { workspace, token } = await createExternal(s, { name: 'busy agent', maxConcurrentTasks: 4 });
    await agentPost(s.url, '/registry/register', token, { id: workspace.id, url: 'http://127.0.0.1:9', agent_card: {} });
    await signIn(page, s.url, TEST_ADMIN_TOKEN);
    const r = row(page, workspace.id);
    await expect.poll(() => r.locator('[data-field="current-task"]').textContent()).toBe('idle');

    await agentPost(s.url, '/registry/heartbeat', token, heartbeat(workspace.id, { active_tasks: 3, current_task: 'indexing the repository', error_rate: 0.2 }));
    await expect.poll(() => r.locator('[data-field="current-task"]').textContent(), { timeout: 3000 }).toBe('indexing the repository');
    expect(await r.locator('[data-field="tasks"]').textContent()).toBe('3/4');
    expect(await r.locator('[data-field="error-rate"]').textContent()).toBe('20%');
    await expect.poll(() => r.locator('[data-field="heartbeat"]').textContent()).toMatch(/just now|\d s ago/);
  });

  it('shows a typed error as a sentence: restart with no container runtime', async () => {
    const { workspace } = await createWorkspace(s, { name: 'needs docker' });
    await eventually(async () => ((await s.gql('query($id: ID!) { workspace(id: $id) { status } }', { id: workspace.id })).data.workspace.status === 'FAILED' ? true : undefined));
    await signIn(page, s.url, TEST_ADMIN_TOKEN);
    await row(page, workspace.id).getByRole('button', { name: 'Restart needs docker' }).click();
    await page.getByRole('alert').filter({ hasText: 'Restart failed: No container runtime is reachable right now' }).waitFor();
    expect(await status(workspace.id)).toBe('FAILED');
  });

  it('asks before hibernating a busy workspace, then forces it (and shows what the runtime answered)', async () => {
    // A container workspace whose agent reached us (its own token, minted by the admin): ONLINE and busy.
    const { workspace } = await createWorkspace(s, { name: 'busy container' });
    await eventually(async () => ((await s.gql('query($id: ID!) { workspace(id: $id) { status } }', { id: workspace.id })).data.workspace.status === 'FAILED' ? true : undefined));
    const { token } = await mintWorkspaceToken(s, workspace.id);
    await agentPost(s.url, '/registry/register', token, { id: workspace.id, url: 'http://127.0.0.1:9', agent_card: {} });
    await agentPost(s.url, '/registry/heartbeat', token, heartbeat(workspace.id, { active_tasks: 2 }));
    await signIn(page, s.url, TEST_ADMIN_TOKEN);
    await expect.poll(() => status(workspace.id)).toBe('ONLINE');

    await row(page, workspace.id).getByRole('button', { name: 'Hibernate busy container' }).click();
    const dialog = page.getByRole('alertdialog');
    await dialog.getByText('It has 2 active tasks.').waitFor();
    await dialog.getByRole('button', { name: 'Hibernate anyway' }).click();
    // force passes the status rules; with no container runtime the server then says so.
    await page.getByRole('alert').filter({ hasText: 'Hibernate failed: No container runtime is reachable right now' }).waitFor();
    expect(await status(workspace.id)).toBe('ONLINE');
  });

  it('creates a token shown once and revokes it; sets and deletes a secret, with field errors inline', async () => {
    const { workspace } = await createExternal(s, { name: 'token owner' });
    await signIn(page, s.url, TEST_ADMIN_TOKEN);
    await row(page, workspace.id).getByRole('link', { name: 'token owner' }).click();
    await page.getByRole('heading', { name: 'token owner', level: 1 }).waitFor();

    const tokens = page.locator('section[aria-labelledby="tokens-title"] li');
    await expect.poll(() => tokens.count()).toBe(1); // the agent's token from createWorkspace
    await page.getByRole('button', { name: 'Create token' }).click();
    const shown = await page.locator('[data-new-token]').inputValue();
    expect(shown).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await page.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => tokens.count()).toBe(2);
    expect(await agentPost(s.url, '/registry/heartbeat', shown, heartbeat(workspace.id))).not.toBe(401);

    await tokens.first().getByRole('button', { name: /^Revoke token/ }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => tokens.count()).toBe(1);
    expect(await agentPost(s.url, '/registry/heartbeat', shown, heartbeat(workspace.id))).toBe(401);

    await page.getByLabel('Key').fill('1-not-a-key');
    await page.getByLabel('Value').fill('x');
    await page.getByRole('button', { name: 'Set secret' }).click();
    await page.locator('#secret-key-error').waitFor();
    expect(await page.getByLabel('Key').getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Key').fill('OPENAI_API_KEY');
    await page.getByLabel('Value').fill('sk-test');
    await page.getByRole('button', { name: 'Set secret' }).click();
    await page.locator('[data-secret-key="OPENAI_API_KEY"]').waitFor();
    const keys = await s.gql('query($id: ID!) { workspace(id: $id) { secretKeys } }', { id: workspace.id });
    expect(keys.data.workspace.secretKeys).toEqual(['OPENAI_API_KEY']);
    await page.getByRole('button', { name: 'Delete secret OPENAI_API_KEY' }).click();
    await page.locator('[data-secret-key]').waitFor({ state: 'detached' });
  });

  it('deletes a parent only after confirming its children, from a dialog that Escape closes', async () => {
    const parent = await createExternal(s, { name: 'parent to delete' });
    const child = await createExternal(s, { name: 'its child', parentId: parent.workspace.id });
    await signIn(page, s.url, TEST_ADMIN_TOKEN);
    const deleteButton = row(page, parent.workspace.id).getByRole('button', { name: 'Delete parent to delete' });

    await deleteButton.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    // Focus stays in the dialog: nothing behind it can be reached with Tab.
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => !!document.activeElement?.closest('dialog') || document.activeElement === document.body)).toBe(true);
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Delete parent to delete');

    await deleteButton.click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByText('Deleting it also deletes everything below it').waitFor();
    expect(await dialog.getByText('its child').count()).toBe(1);
    await dialog.getByRole('button', { name: 'Delete all' }).click();
    await row(page, parent.workspace.id).waitFor({ state: 'detached' });
    await row(page, child.workspace.id).waitFor({ state: 'detached' });
  });

  it('gives a read-only org token the whole view and no button that would change anything', async () => {
    const { workspace, token } = await createExternal(s, { name: 'watched only' });
    await agentPost(s.url, '/registry/register', token, { id: workspace.id, url: 'http://127.0.0.1:9', agent_card: {} });
    const ro = await s.gql('mutation { createOrgToken(name: "wall", readOnly: true) { ... on CreateOrgTokenSuccess { token } } }');
    await signIn(page, s.url, ro.data.createOrgToken.token);
    await page.getByText('read-only', { exact: true }).waitFor();
    await expect.poll(() => status(workspace.id)).toBe('ONLINE');
    expect(await page.locator('[data-action]').count()).toBe(0);

    await row(page, workspace.id).getByRole('link', { name: 'watched only' }).click();
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    await page.locator('[data-event-type="WORKSPACE_ONLINE"]').waitFor();
    expect(await page.locator('[data-action]').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Create token' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Set secret' }).count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Logs' }).count()).toBe(0);

    // Still live: a status change from outside reaches the read-only view too.
    await agentPost(s.url, '/registry/heartbeat', token, heartbeat(workspace.id, { error_rate: 0.8 }));
    await page.locator('.page-head [data-status="DEGRADED"]').waitFor({ timeout: 2000 });
  });

  it('searches, filters by status from the chart, sorts and pages', async () => {
    for (let i = 0; i < 30; i++) await createExternal(s, { name: `paged-${String(i).padStart(2, '0')}`, role: i % 2 ? 'odd worker' : 'even worker' });
    await signIn(page, s.url, TEST_ADMIN_TOKEN);
    const names = () => page.locator('tbody .ws-name').allTextContents();

    await page.getByLabel('Search by name or role').fill('paged-');
    await expect.poll(async () => (await names()).length).toBe(30);
    await page.getByLabel('Search by name or role').fill('odd worker');
    await expect.poll(async () => (await names()).every((n) => Number(n.slice(-2)) % 2 === 1) && (await names()).length === 15).toBe(true);

    await page.getByLabel('Search by name or role').fill('paged-');
    await page.getByLabel('Sort').selectOption('NAME');
    await page.getByRole('button', { name: /Ascending order/ }).click();
    await expect.poll(async () => (await names())[0]).toBe('paged-29');
    await page.getByLabel('Per page').selectOption('25');
    await expect.poll(async () => (await names()).length).toBe(25);
    await page.getByRole('button', { name: 'Next →' }).click();
    await expect.poll(async () => names()).toEqual(['paged-04', 'paged-03', 'paged-02', 'paged-01', 'paged-00']);
    await page.getByRole('button', { name: '← Previous' }).click();
    await expect.poll(async () => (await names())[0]).toBe('paged-29');

    await page.locator('[data-count-status="AWAITING_AGENT"]').click();
    expect(await page.locator('[data-count-status="AWAITING_AGENT"]').getAttribute('aria-pressed')).toBe('true');
    await expect.poll(async () => new Set(await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status'))))).toEqual(new Set(['AWAITING_AGENT']));
    expect(page.url()).toContain('status=AWAITING_AGENT');
  });
});

describe.skipIf(!runBoardTests)('fleet board when the server refuses', () => {
  let s: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    await ensureBoardBuilt();
    s = await startTestServer({ RATE_LIMIT_PER_MIN: '60' });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });

  it('says how long to wait when rate limited (RATE_LIMITED with its retryAfter)', async () => {
    const { workspace } = await createExternal(s, { name: 'limited' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, s.url, TEST_ADMIN_TOKEN);
    await row(page, workspace.id).waitFor();
    // The rest of this minute's budget of the address (the page and this test share 127.0.0.1).
    for (let i = 0; i < 60; i++) if ((await s.gql('{ serverTime }')).status === 429) break;
    await row(page, workspace.id).getByRole('button', { name: 'Pause limited' }).click();
    const alert = page.getByRole('alert').filter({ hasText: /Too many requests: try again in \d+ s\./ });
    await alert.waitFor({ timeout: 10_000 });
    const wait = Number(/in (\d+) s/.exec((await alert.textContent()) ?? '')?.[1]);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    await context.close();
  });
});
