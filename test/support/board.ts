// Board tests drive Debian's Chromium with playwright-core (never a downloaded browser) against a
// real server. Outside CI a machine without /usr/bin/chromium skips them visibly; in CI they run, and
// a missing browser fails them (.ci/start-chromium.sh installs it).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { chromiumAvailable } from './chromium.js';

export { launchChromium } from './chromium.js';

/** The board suites run when Chromium is here, and always in CI (where its absence is a failure). */
export const runBoardTests = chromiumAvailable || !!process.env.CI;

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * npm install builds the board; a checkout that skipped it, or sources edited since, get a build
 * here (one test file at a time: a lock folder, since several files start at once).
 */
export async function ensureBoardBuilt(): Promise<void> {
  const lock = join(REPO_ROOT, 'web/.build-lock');
  for (let waited = 0; ; waited += 100) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (waited > 60_000) throw new Error(`${lock} is held for a minute: remove it if no build is running`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    const built = statSync(join(REPO_ROOT, 'web/dist/index.html'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
    if (newestSource(join(REPO_ROOT, 'web/src')) > built) {
      execFileSync(process.execPath, [join(REPO_ROOT, 'web/build.mjs'), '--quiet'], { stdio: 'inherit' });
    }
  } finally {
    rmdirSync(lock);
  }
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Page errors and failed console messages, so a test can assert the board stayed clean. */
export function watchPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** Opens the board and signs in with `token`; resolves once live updates are connected. */
export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.locator('[data-link]').getAttribute('data-link'), { timeout: 10_000 }).toBe('live');
}

/** The row of a workspace in the fleet table. */
export const row = (page: Page, id: string) => page.locator(`tr[data-workspace-id="${id}"]`);

/** REST call of an external agent, as the agent would make it. */
export async function agentPost(baseUrl: string, path: string, token: string, body: unknown): Promise<number> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

export function heartbeat(id: string, fields: Partial<Record<'error_rate' | 'active_tasks' | 'uptime_seconds', number> & { current_task: string; sample_error: string }> = {}) {
  return { workspace_id: id, error_rate: 0, sample_error: '', active_tasks: 0, uptime_seconds: 1, current_task: '', runtime_state: '', ...fields };
}
