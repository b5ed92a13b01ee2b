// The board drives a real container: a workspace running the reference agent image on the shared
// Docker daemon (DOCKER_NETWORK=host) is restarted through its Restart button and comes back ONLINE,
// with the way there on its timeline and the new container's output in its live logs.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerAvailable, ensureAgentImage, openE2eDatabase, removeDockerResources, type E2eDatabase } from '../support/docker-e2e.js';
import { ensureBoardBuilt, launchChromium, runBoardTests, signIn } from '../support/board.js';
import { CREATE, eventually } from '../support/lifecycle-fixtures.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';

const STATUS = 'query($id: ID!) { workspace(id: $id) { status container { id } } }';

describe.skipIf(!runBoardTests || (!dockerAvailable && !process.env.CI))('fleet board with Docker', () => {
  let e2e: E2eDatabase;
  let s: TestServer;
  let browser: Browser;
  const created: string[] = [];

  beforeAll(async () => {
    await ensureBoardBuilt();
    await ensureAgentImage();
    e2e = await openE2eDatabase();
    s = await startTestServer({ ...e2e.env, LOG_LEVEL: 'silent' });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await s?.stop();
    await removeDockerResources(created).catch(() => {});
    await e2e?.close();
  });

  it('restarts a container workspace from its page: PROVISIONING, then ONLINE, with the new container logging', async () => {
    const r = await s.gql(CREATE, { input: { name: 'docker agent' } });
    const id: string = r.data.createWorkspace.workspace.id;
    created.push(id);
    const first = await eventually(async () => {
      const w = (await s.gql(STATUS, { id })).data.workspace;
      return w.status === 'ONLINE' ? w : undefined;
    }, 60_000, 'ONLINE before the restart');

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page, s.url, TEST_ADMIN_TOKEN);
    await page.goto(`${s.url}/#/workspaces/${id}`);
    const badge = page.locator('.page-head [data-status]');
    await expect.poll(() => badge.getAttribute('data-status')).toBe('ONLINE');
    await expect.poll(() => page.locator('.logs').textContent(), { timeout: 30_000 }).toContain(`agent[${id}]`);

    const seen: string[] = [];
    await page.exposeFunction('reportStatus', (status: string) => seen.push(status));
    await badge.evaluate((el) => {
      new MutationObserver(() => {
        const b = document.querySelector('.page-head [data-status]');
        if (b) (window as unknown as { reportStatus(s: string | null): void }).reportStatus(b.getAttribute('data-status'));
      }).observe(el.closest('.page-head')!, { subtree: true, attributes: true, childList: true });
    });
    await page.getByRole('button', { name: 'Restart', exact: true }).click();
    await page.getByText('Restarting “docker agent”.').waitFor();
    await expect.poll(() => seen.includes('PROVISIONING'), { timeout: 20_000 }).toBe(true);
    await expect.poll(() => badge.getAttribute('data-status'), { timeout: 60_000 }).toBe('ONLINE');

    const after = (await s.gql(STATUS, { id })).data.workspace;
    expect(after.status).toBe('ONLINE');
    expect(after.container.id).not.toBe(first.container.id);
    await page.locator('[data-event-type="WORKSPACE_RESTART_REQUESTED"]').waitFor();
    // The logs panel follows the new container.
    await expect.poll(() => page.locator('.logs').getAttribute('data-container'), { timeout: 30_000 }).toBe(after.container.id);
    await expect.poll(() => page.locator('.logs').textContent(), { timeout: 30_000 }).toContain(`agent[${id}]`);
    await context.close();
  }, 150_000);
});
