// Takes the README's screenshots of the fleet board (docs/board-*.png) from a real server: a
// PostgreSQL-server scratch database, external agents heartbeating through the REST protocol (busy,
// idle, failing, silent, paused), and, when Docker answers, one container workspace running the
// reference agent (its page shows live logs). Chromium as in the tests.
//
//   npx tsx scripts/board-screenshots.ts
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { loadConfig } from '../config.js';
import { startServer } from '../server.js';
import { createScratchDatabase } from '../services/db/scratch-database.js';
import { LOOP_NAMES } from '../services/reconcilers/index.js';
import { RECONCILER_LOCK_CLASS } from '../services/reconcilers/leadership.js';
import { createDockerRuntime } from '../services/runtime/docker.js';
import { launchChromium } from '../test/support/chromium.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADMIN = `screens-${randomBytes(12).toString('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const NAMES = ['atlas', 'beacon', 'cirrus', 'delta', 'ember', 'fjord', 'granite', 'harbor', 'iris', 'juniper', 'kestrel', 'lumen', 'meridian', 'nova', 'orion', 'pylon', 'quartz', 'raven', 'sable', 'tundra'];
const ROLES = ['research lead', 'code reviewer', 'data analyst', 'support triage', 'release manager', 'docs writer', 'qa runner', 'planner'];
const TASKS = ['Summarising Q3 incident reports', 'Reviewing PR #4821: retry budget', 'Indexing customer tickets', 'Drafting release notes 2.14', 'Running the regression suite', '', ''];

async function main(): Promise<void> {
  execFileSync(process.execPath, [path.join(ROOT, 'web/build.mjs'), '--quiet'], { stdio: 'inherit' });
  const base = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const db = await createScratchDatabase(base, `screens_${randomBytes(4).toString('hex')}`);
  // Other test runs may share the Docker daemon: this server must not lead the orphan sweeper (it
  // would reap their containers, which have no row here). Holding the loop's lock keeps it off.
  const lock = new pg.Client({ connectionString: db.url });
  await lock.connect();
  await lock.query('SELECT pg_advisory_lock($1::int, $2::int)', [RECONCILER_LOCK_CLASS, LOOP_NAMES.indexOf('orphan-sweeper') + 1]);
  const docker = await createDockerRuntime({ dockerHost: process.env.DOCKER_HOST }).ping();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'board-screens-'));
  const server = await startServer(
    loadConfig({
      PORT: '0',
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      ADMIN_TOKEN: ADMIN,
      SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      CONTAINER_RUNTIME: docker ? 'docker' : 'none',
      DOCKER_NETWORK: 'host',
      HEARTBEAT_INTERVAL_S: '2',
      LOG_LEVEL: 'warn',
    }),
  );
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ query, variables }) });
    return ((await res.json()) as { data: any }).data;
  };
  const agent = (p: string, token: string, body: unknown) =>
    fetch(`${server.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) }).then((r) => r.arrayBuffer());
  const CREATE = 'mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { ... on CreateWorkspaceSuccess { token workspace { id } } } }';

  const agents: Array<{ id: string; token: string; i: number }> = [];
  let container: string | null = null;
  let stop = false;
  let beats: Promise<void> = Promise.resolve();
  const browser = await launchChromium();
  try {
    for (const [i, name] of NAMES.entries()) {
      const parentId = i > 3 && i % 5 === 0 ? agents[0]!.id : i > 3 && i % 7 === 0 ? agents[1]!.id : undefined;
      const r = await gql(CREATE, { input: { name, role: ROLES[i % ROLES.length], runtime: 'external', maxConcurrentTasks: 4, parentId } });
      agents.push({ id: r.createWorkspace.workspace.id, token: r.createWorkspace.token, i });
    }
    if (docker) {
      const r = await gql(CREATE, { input: { name: 'workbench', role: 'reference agent in a container', tier: 1 } });
      container = r.createWorkspace.workspace.id as string;
    }
    const beat = (round: number) =>
      Promise.all(
        agents
          .filter((a) => a.i !== 6) // silent: it will show as offline
          .map((a) => {
            const err = a.i % 6 === 3 ? 0.7 : a.i % 4 === 1 ? 0.04 + (round % 3) * 0.01 : 0;
            return agent('/registry/heartbeat', a.token, {
              workspace_id: a.id,
              error_rate: err,
              sample_error: err > 0.5 ? 'upstream model timeout after 60 s' : '',
              active_tasks: (a.i + round) % 5,
              uptime_seconds: 3600 + a.i * 917 + round * 2,
              current_task: TASKS[(a.i + round) % TASKS.length],
              runtime_state: '',
            });
          }),
      ).then(() => undefined);
    for (const a of agents) await agent('/registry/register', a.token, { id: a.id, url: `http://127.0.0.1:${9000 + a.i}`, agent_card: { name: 'agent' } });
    await beat(0);
    for (const i of [8, 17]) await gql('mutation($id: ID!) { pauseWorkspace(id: $id) { __typename } }', { id: agents[i]!.id });
    await server.db.prisma.$executeRaw`
      /* screensSilentAgent */
      UPDATE workspaces SET status = 'OFFLINE', last_heartbeat_at = now() - interval '4 minutes' WHERE id = ${agents[6]!.id}::uuid`;
    beats = (async () => {
      for (let round = 1; !stop; round++) {
        await sleep(2000);
        await beat(round);
      }
    })();
    if (container) {
      for (let t = 0; t < 60; t++) {
        if ((await gql('query($id: ID!) { workspace(id: $id) { status } }', { id: container })).workspace.status === 'ONLINE') break;
        await sleep(1000);
      }
    }

    const shoot = async (file: string, viewport: { width: number; height: number }, scale: number, hash: string, ready: (p: Page) => Promise<void>) => {
      const context = await browser.newContext({ viewport, deviceScaleFactor: scale, colorScheme: 'light' });
      const page = await context.newPage();
      await page.goto(`${server.url}/`);
      await page.getByLabel('Token').fill(ADMIN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('[data-link="live"]').waitFor();
      if (hash) await page.goto(`${server.url}/${hash}`);
      await ready(page);
      await sleep(1500);
      await page.mouse.move(0, viewport.height - 1);
      await page.screenshot({ path: path.join(ROOT, 'docs', file) });
      await context.close();
      console.log(`wrote docs/${file}`);
    };
    const rows = (p: Page) => p.locator('tbody tr').first().waitFor();
    await shoot('board-desktop.png', { width: 1360, height: 900 }, 1, '', rows);
    await shoot('board-phone.png', { width: 390, height: 844 }, 2, '', rows);
    if (container) {
      await shoot('board-workspace.png', { width: 1360, height: 900 }, 1, `#/workspaces/${container}`, (p) => p.locator('.logs span').first().waitFor({ timeout: 30_000 }));
    }
  } finally {
    stop = true;
    await beats.catch(() => {});
    await browser.close();
    if (container) await gql('mutation($id: ID!) { deleteWorkspace(id: $id, confirm: true) { __typename } }', { id: container }).catch(() => {});
    await sleep(docker ? 3000 : 0); // the container and its volume are removed after the REMOVED write
    await server.close();
    await lock.end();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
