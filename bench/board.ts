// Board benchmark: the built fleet board in Chromium, signed in as admin, showing the first 100 of
// 1,000 workspaces while 20 status changes a second are committed for 10 s (changes to the visible
// rows, through the real event log; the commit time is taken in the server process right after
// COMMIT). For each change the page records, on the same wall clock:
//   - when the subscription message carrying it arrived (a wrapper around the page's WebSocket);
//   - when the row's status in the DOM changed (a MutationObserver).
// The baseline is the message arrival: the board's own cost is how much later the DOM follows
// (p99 ratio, target ≤ 1.5×). Also: long tasks in the page (PerformanceObserver 'longtask', target:
// none over 50 ms), the bundle size gzipped (target ≤ 150 KB) and the first render time (navigation
// → 100 rows on screen, signed in, cold cache).
//
//   npm run bench -- board [--workspaces=1000] [--rate=20] [--seconds=10] [--warmup=20]
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { loadConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';
import type { WorkspaceStatus } from '../services/workspaces/record.js';
import { launchChromium } from '../test/support/chromium.js';
import { adminGql, BENCH_ADMIN_TOKEN } from './admin-gql.js';
import { runIfMain } from './cli.js';
import { change } from './fanout.js';
import { benchServerEnv, scratchDatabase } from './scratch-db.js';

const WEB = fileURLToPath(new URL('../web/', import.meta.url));
const PAGE_SIZE = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Options {
  workspaces: number;
  rate: number;
  seconds: number;
  warmup: number;
}

function parseArgs(argv: string[]): Options {
  const get = (name: string, d: number) => Number(argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d);
  return { workspaces: get('workspaces', 1000), rate: get('rate', 20), seconds: get('seconds', 10), warmup: get('warmup', 20) };
}

/**
 * Installed before the board's own code: timestamps of status messages, of row status changes in the
 * DOM, and long tasks. Plain JavaScript in a string: a function would be serialized as the loader
 * compiled it, helpers included that the page does not have.
 */
const INSTRUMENT = `(() => {
  const stamp = () => performance.timeOrigin + performance.now();
  const bench = { messages: [], rows: [], longTasks: [], firstRows: 0 };
  window.__bench = bench;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener('message', (e) => {
        const t = stamp();
        if (typeof e.data !== 'string' || !e.data.includes('"workspaceStatusChanged"')) return;
        const id = /"event":\\{[^}]*?"id":"(\\d+)"/.exec(e.data)?.[1];
        if (id) bench.messages.push([id, t]);
      });
    }
  };
  new MutationObserver((records) => {
    const t = stamp();
    for (const r of records) {
      if (r.type === 'attributes' && r.target.tagName === 'TR') bench.rows.push([r.target.getAttribute('data-workspace-id'), r.target.getAttribute('data-status'), t]);
    }
    if (!bench.firstRows && document.querySelector('tr[data-workspace-id]')) bench.firstRows = performance.now();
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) bench.longTasks.push([e.startTime + performance.timeOrigin, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
})();`;

interface PageRecords {
  messages: Array<[string, number]>;
  rows: Array<[string, string, number]>;
  longTasks: Array<[number, number]>;
  firstRows: number;
}

const records = (page: Page) => page.evaluate(() => (window as unknown as { __bench: PageRecords }).__bench);

function quantiles(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? NaN, n: s.length };
}

async function bundleSize(): Promise<{ gzip: number; files: string[] }> {
  execFileSync(process.execPath, [path.join(WEB, "build.mjs"), "--quiet"], { env: process.env });
  const assets = path.join(WEB, 'dist/assets');
  const files = (await readdir(assets)).filter((f) => /\.(js|css)\.gz$/.test(f));
  let gzip = (await readFile(path.join(WEB, 'dist/index.html.gz'))).length;
  for (const f of files) gzip += (await readFile(path.join(assets, f))).length;
  return { gzip, files: files.map((f) => f.replace(/\.gz$/, '')) };
}

async function seed(server: RunningServer, n: number): Promise<void> {
  await server.db.prisma.$executeRaw`
    /* benchBoardSeed */
    INSERT INTO workspaces (name, runtime, status, generation, role)
    SELECT 'bench-' || lpad(i::text, 5, '0'), 'external', 'ONLINE'::workspace_status, 1, 'bench agent'
    FROM generate_series(1, ${n}::int) AS i`;
}

export async function run(argv: string[] = process.argv.slice(2)): Promise<void> {
  const o = parseArgs(argv);
  const bundle = await bundleSize();
  const db = await scratchDatabase('board');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-board-'));
  let server: RunningServer | undefined;
  const browser = await launchChromium();
  try {
    server = await startServer(loadConfig(benchServerEnv(db, dataDir, BENCH_ADMIN_TOKEN, { LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error' })));
    await seed(server, o.workspaces);
    const first = await adminGql<{ workspaces: { edges: Array<{ node: { id: string } }> } }>(
      server.url,
      `{ workspaces(first: ${PAGE_SIZE}) { edges { node { id } } } }`,
    );
    const visible = first.workspaces.edges.map((e) => e.node.id);

    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    await context.addInitScript({ content: INSTRUMENT });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.getByLabel('Token').fill(BENCH_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-link="live"]').waitFor();

    // First render: a fresh navigation (token kept for the tab), until the first rows are on screen.
    await page.goto(`${server.url}/?fresh#/?size=${PAGE_SIZE}`);
    await page.locator('tr[data-workspace-id]').nth(PAGE_SIZE - 1).waitFor();
    await page.locator('[data-link="live"]').waitFor();
    const firstRender = (await records(page)).firstRows;

    const status = new Map<string, WorkspaceStatus>(visible.map((id) => [id, 'ONLINE']));
    const commits: Array<{ eventId: string; workspaceId: string; to: WorkspaceStatus; at: number }> = [];
    let k = 0;
    const step = async (record: boolean) => {
      const id = visible[k++ % visible.length]!;
      const from = status.get(id)!;
      const to: WorkspaceStatus = from === 'ONLINE' ? 'DEGRADED' : 'ONLINE';
      const [eventId, at] = await change(server!, id, from, to);
      status.set(id, to);
      if (record) commits.push({ eventId, workspaceId: id, to, at });
    };
    const burst = async (count: number, record: boolean) => {
      const t0 = Date.now();
      for (let i = 0; i < count; i++) {
        await sleep(Math.max(0, t0 + (i * 1000) / o.rate - Date.now()));
        await step(record);
      }
    };

    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const busy = async () => {
      const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> };
      const get = (n: string) => (metrics.find((m) => m.name === n)?.value ?? 0) * 1000;
      return { task: get('TaskDuration'), script: get('ScriptDuration'), layout: get('LayoutDuration') + get('RecalcStyleDuration') };
    };

    await burst(o.warmup, false); // JIT, pools and the page's code paths warm, not measured
    await sleep(1500);
    const busyBefore = await busy();
    // BENCH_PAGE_PROFILE=<file>: a CPU profile of the page during the measured run.
    if (process.env.BENCH_PAGE_PROFILE) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.start');
    }
    // BENCH_TRACE=<file>: a Chromium trace of the measured run, for chrome://tracing or DevTools.
    const tracing = process.env.BENCH_TRACE ? await browser.startTracing(page, { path: process.env.BENCH_TRACE, categories: ['devtools.timeline', 'v8.execute', 'disabled-by-default-devtools.timeline'] }).then(() => true) : false;
    const windowStart = performance.timeOrigin + performance.now();
    await burst(o.rate * o.seconds, true);
    await sleep(2000);
    const windowEnd = performance.timeOrigin + performance.now();
    const busyAfter = await busy();
    if (tracing) await browser.stopTracing();
    if (process.env.BENCH_PAGE_PROFILE) await writeFile(process.env.BENCH_PAGE_PROFILE, JSON.stringify((await cdp.send('Profiler.stop')).profile));
    const rec = await records(page);

    const messageAt = new Map(rec.messages.map(([id, t]) => [id, t]));
    // A row's n-th change to a status in this window is the n-th commit of that change.
    const domQueue = new Map<string, number[]>();
    for (const [id, st, t] of rec.rows) {
      if (t < windowStart) continue;
      const key = `${id}:${st}`;
      (domQueue.get(key) ?? domQueue.set(key, []).get(key)!).push(t);
    }
    const toMessage: number[] = [];
    const toDom: number[] = [];
    for (const c of commits) {
      const m = messageAt.get(c.eventId);
      const d = domQueue.get(`${c.workspaceId}:${c.to}`)?.shift();
      if (m !== undefined) toMessage.push(m - c.at);
      if (d !== undefined) toDom.push(d - c.at);
    }
    const msg = quantiles(toMessage);
    const dom = quantiles(toDom);
    const longs = rec.longTasks.filter(([t]) => t >= windowStart && t <= windowEnd).map(([, d]) => d);
    const ratio = dom.p99 / msg.p99;
    const f = (x: number) => `${x.toFixed(1)} ms`;

    console.log(`board bench: ${o.workspaces} workspaces (${PAGE_SIZE} on screen), ${commits.length} status changes at ${o.rate}/s for ${o.seconds} s, Chromium, ${os.cpus().length} CPUs, node ${process.version}`);
    console.log(`  bundle            ${(bundle.gzip / 1024).toFixed(1)} KB gzipped (${bundle.files.join(', ')} + index.html; target ≤ 150 KB: ${bundle.gzip <= 150 * 1024 ? 'met' : 'NOT met'})`);
    console.log(`  first render      ${f(firstRender)} (navigation → ${PAGE_SIZE} rows, signed in)`);
    console.log(`  commit→message    p50 ${f(msg.p50)}  p99 ${f(msg.p99)}  max ${f(msg.max)}  (${msg.n}/${commits.length} received in the page)`);
    console.log(`  commit→DOM        p50 ${f(dom.p50)}  p99 ${f(dom.p99)}  max ${f(dom.max)}  (${dom.n}/${commits.length} rows updated)`);
    console.log(`  p99 ratio         ${ratio.toFixed(2)}× message arrival (target ≤ 1.5×: ${ratio <= 1.5 ? 'met' : 'NOT met'})`);
    console.log(
      `  long tasks        ${longs.filter((d) => d > 50).length} over 50 ms during the run (longest ${longs.length ? f(Math.max(...longs)) : 'none'}; target: none: ${longs.some((d) => d > 50) ? 'NOT met' : 'met'})`,
    );
    const per = (k: 'task' | 'script' | 'layout') => f((busyAfter[k] - busyBefore[k]) / commits.length);
    console.log(`  page main thread  ${per('task')} busy per change (script ${per('script')}, style and layout ${per('layout')})`);
    if (msg.n < commits.length || dom.n < commits.length) console.log('  WARNING: some changes never reached the page or its DOM');
    await context.close();
  } finally {
    await browser.close();
    await server?.close();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, run);
