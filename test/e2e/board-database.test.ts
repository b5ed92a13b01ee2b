// The board while the server's database is away (a TCP proxy between them is cut): what the page asks
// for answers SERVICE_UNAVAILABLE, the page says "Server unavailable, retrying…" and keeps what it
// showed, and once the database is back it finishes loading and follows changes again.
// Needs the server's outage answers (API.md "Outages": SERVICE_UNAVAILABLE, from the faults branch);
// without them the server masks the outage as "Unexpected error." and this test fails.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExternal } from '../graphql/fixtures.js';
import { agentPost, ensureBoardBuilt, heartbeat, launchChromium, row, runBoardTests, signIn } from '../support/board.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

describe.skipIf(!runBoardTests)('fleet board while the database is away', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let s: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    await ensureBoardBuilt();
    db = await createTestDatabase();
    if (!db.url) throw new Error('runs in the server project (TEST_DB_MODE=server)');
    const target = new URL(db.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    s = await startTestServer({ DATABASE_URL: proxy.through(db.url), DATABASE_TIMEOUT_MS: '1000', RATE_LIMIT_PER_MIN: '100000' });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    proxy?.restore();
    await s?.stop();
    await proxy?.close();
    await db?.drop();
  });

  it('says the server is unavailable, keeps retrying, and recovers without a reload', async () => {
    const { workspace, token } = await createExternal(s, { name: 'patient' });
    await agentPost(s.url, '/registry/register', token, { id: workspace.id, url: 'http://127.0.0.1:9', agent_card: {} });
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, s.url, TEST_ADMIN_TOKEN);
    await expect.poll(() => row(page, workspace.id).getAttribute('data-status')).toBe('ONLINE');

    proxy.cut();
    await row(page, workspace.id).getByRole('link', { name: 'patient' }).click();
    await page.getByRole('alert').filter({ hasText: 'Server unavailable, retrying…' }).waitFor({ timeout: 10_000 });

    proxy.restore();
    await page.getByRole('heading', { name: 'patient', level: 1 }).waitFor({ timeout: 20_000 });
    await page.getByText('Server unavailable, retrying…').waitFor({ state: 'detached', timeout: 10_000 });
    // Live again: a change made now reaches the page.
    await expect.poll(async () => agentPost(s.url, '/registry/heartbeat', token, heartbeat(workspace.id, { error_rate: 0.9 })), { timeout: 10_000 }).toBe(200);
    await page.locator('.page-head [data-status="DEGRADED"]').waitFor({ timeout: 10_000 });
    await context.close();
  }, 90_000);
});
