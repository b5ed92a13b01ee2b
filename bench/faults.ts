// Fault benchmark (issue 11), with DEFAULT settings (health sweep every 15 s, 5 s timeouts): for each
// fault, the time from the end of the fault to full convergence (every workspace ONLINE, one container
// of its generation holding its only live token, nothing leaked), beside the time the same workload
// takes with no fault, measured in the same run. Targets: ≤ 30 s after a server kill or a database
// restart; ≤ 2 health-sweep intervals after Docker returns.
//
//   npm run bench -- faults [--workspaces=10]
//
// Real PostgreSQL (a scratch database on TEST_DATABASE_URL, and a private cluster for the restart) and
// real Docker (the local daemon, through a proxy that freezes or appears late, and a private daemon
// for the restart).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';
import { dockerClient, parseDockerHost } from '../services/runtime/docker-connection.js';
import { createDockerProxy } from '../test/support/docker-proxy.js';
import { AGENT_IMAGE, ensureAgentImage, spawnServer } from '../test/support/docker-e2e.js';
import { startPrivateDockerd } from '../test/support/private-dockerd.js';
import { startPrivatePostgres } from '../test/support/private-postgres.js';
import { startTcpProxy } from '../test/support/tcp-proxy.js';
import { converged, deploymentIdOf, removeDeployment, sqlOn, until, type Sql } from '../test/faults/support/convergence.js';
import { createWorkspaces, freePort, restartStorm, type Gql } from '../test/faults/support/workload.js';
import { adminHeaders, BENCH_ADMIN_TOKEN } from './admin-gql.js';
import { runIfMain } from './cli.js';
import { scratchDatabase } from './scratch-db.js';

const DOCKER_HOST = process.env.DOCKER_HOST;
const HEALTH_SWEEP_S = 15; // the default
const RESTARTS = 3;
const HANG_MS = 10_000;
const docker = dockerClient(parseDockerHost(DOCKER_HOST), 30_000);

const gqlAt =
  (url: string): Gql =>
  async (query, variables) => {
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers: adminHeaders, body: JSON.stringify({ query, variables }) });
    const body = (await res.json()) as { data: unknown; errors?: unknown[] };
    return { status: res.status, data: body.data, errors: body.errors };
  };

/** Defaults throughout, but for what a benchmark on one host needs. */
function envFor(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: databaseUrl,
    ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    CONTAINER_RUNTIME: 'docker',
    DOCKER_NETWORK: 'host',
    LOG_LEVEL: 'silent',
    ...(DOCKER_HOST ? { DOCKER_HOST } : {}),
    ...extra,
  };
}

async function inProcess(env: Record<string, string>): Promise<RunningServer & { gql: Gql; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-faults-'));
  const s = await startServer(loadConfig({ ...env, DATA_DIR: dataDir }));
  let stopped: Promise<void> | null = null;
  return {
    ...s,
    gql: gqlAt(s.url),
    // Idempotent: each scenario stops its server when done, and cleanup stops it again after an error.
    stop: () =>
      (stopped ??= s.close().then(() => rmSync(dataDir, { recursive: true, force: true }))),
  };
}

interface Scenario {
  sql: Sql;
  deploymentId: string;
  ids: string[];
}

async function prepare(sql: Sql, gql: Gql, n: number, dockerApi = docker): Promise<Scenario> {
  const deploymentId = await deploymentIdOf(sql);
  const ids = await createWorkspaces(gql, n, 'bench faults');
  await converged({ sql, docker: dockerApi, deploymentId, ids }, Date.now(), 120_000);
  return { sql, deploymentId, ids };
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function run(argv: string[]): Promise<void> {
  const n = Number(argv.find((a) => a.startsWith('--workspaces='))?.split('=')[1] ?? 10);
  await ensureAgentImage();
  const cleanups: Array<() => Promise<unknown>> = [];
  const lines: string[] = [];
  const report = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  /** A fresh database, its server's env, and cleanup of what the deployment made. */
  const database = async () => {
    const db = await scratchDatabase('faults');
    cleanups.push(() => db.drop());
    return db;
  };
  const forget = (sc: Scenario, api = docker) => cleanups.push(() => removeDeployment(api, sc.deploymentId));

  try {
    // Baselines: the same workloads with no fault.
    const db0 = await database();
    const base = await inProcess(envFor(db0.url));
    cleanups.push(() => base.stop());
    const sc0 = await prepare(sqlOn(db0.url), base.gql, n);
    forget(sc0);
    let t0 = Date.now();
    await restartStorm(base.gql, sc0.ids, RESTARTS);
    const stormBaseline = await converged({ ...sc0, docker }, t0, 120_000);
    t0 = Date.now();
    await restartStorm(base.gql, sc0.ids, 1);
    const restartBaseline = await converged({ ...sc0, docker }, t0, 120_000);
    await base.stop();
    report(`faults  baseline (no fault): storm of ${RESTARTS}×${n} restarts converged in ${secs(stormBaseline)}; one restart of each of ${n} in ${secs(restartBaseline)}`);
    const line = (name: string, ms: number, baseline: number, targetMs: number) =>
      report(
        `faults  ${name}: converged ${secs(ms)} after the fault ended = ${(ms / baseline).toFixed(1)}× the no-fault ${secs(baseline)} (target ≤ ${secs(targetMs)}: ${ms <= targetMs ? 'met' : 'MISSED'})`,
      );

    // 1. kill -9 of the only server mid-storm; another starts (random instance id, same address).
    {
      const db = await database();
      const port = await freePort();
      const env = { ...envFor(db.url, { PORT: String(port), PLATFORM_URL: `http://127.0.0.1:${port}` }), LOG_LEVEL: 'info' };
      const first = await spawnServer(env);
      cleanups.push(() => first.kill('SIGKILL'));
      const sc = await prepare(sqlOn(db.url), gqlAt(first.url), n);
      forget(sc);
      await restartStorm(gqlAt(first.url), sc.ids, RESTARTS);
      await new Promise((r) => setTimeout(r, 250));
      await first.kill('SIGKILL');
      const killedAt = Date.now();
      const second = await spawnServer(env);
      cleanups.push(() => second.kill());
      const ms = await converged({ ...sc, docker }, killedAt, 120_000);
      line('server kill -9 mid-storm (a new instance starts)', ms, stormBaseline, 30_000);
      await second.kill();
    }

    // 2. PostgreSQL restarted mid-storm (a private cluster).
    {
      const pg = await startPrivatePostgres();
      cleanups.push(() => pg.dispose());
      await sqlOn(pg.url()).rows('CREATE DATABASE bench');
      const s = await inProcess(envFor(pg.url('bench')));
      cleanups.push(() => s.stop());
      const sc = await prepare(sqlOn(pg.url('bench')), s.gql, n);
      forget(sc);
      await restartStorm(s.gql, sc.ids, RESTARTS);
      await pg.restart();
      const ms = await converged({ ...sc, docker }, Date.now(), 120_000);
      line('PostgreSQL restarted mid-storm', ms, stormBaseline, 30_000);
      await s.stop();
    }

    // 3. PostgreSQL hung for 10 s mid-storm (a frozen proxy).
    {
      const db = await database();
      const u = new URL(db.url);
      const proxy = await startTcpProxy(u.hostname, Number(u.port || 5432));
      cleanups.push(() => proxy.close());
      const s = await inProcess(envFor(proxy.through(db.url)));
      cleanups.push(() => s.stop());
      const sc = await prepare(sqlOn(db.url), s.gql, n);
      forget(sc);
      await restartStorm(s.gql, sc.ids, RESTARTS);
      proxy.freeze();
      await new Promise((r) => setTimeout(r, HANG_MS));
      proxy.thaw();
      const ms = await converged({ ...sc, docker }, Date.now(), 120_000);
      line(`PostgreSQL hung ${secs(HANG_MS)} mid-storm`, ms, stormBaseline, 30_000);
      await s.stop();
    }

    // 4. Docker hung for 10 s while restarts were under way (a frozen socket proxy).
    {
      const db = await database();
      const proxy = createDockerProxy(DOCKER_HOST);
      await proxy.listen();
      cleanups.push(() => proxy.close());
      const s = await inProcess(envFor(db.url, { DOCKER_HOST: proxy.dockerHost }));
      cleanups.push(() => s.stop());
      const sc = await prepare(sqlOn(db.url), s.gql, n);
      forget(sc);
      proxy.freeze();
      await restartStorm(s.gql, sc.ids, 1);
      await new Promise((r) => setTimeout(r, HANG_MS));
      proxy.thaw();
      const ms = await converged({ ...sc, docker }, Date.now(), 120_000);
      line(`Docker hung ${secs(HANG_MS)} under restarts`, ms, restartBaseline, 2 * HEALTH_SWEEP_S * 1000);
      await s.stop();
    }

    // 5. dockerd restarted under running workspaces (a private daemon).
    {
      const dockerd = await startPrivateDockerd(AGENT_IMAGE, DOCKER_HOST);
      cleanups.push(() => dockerd.dispose());
      const db = await database();
      const s = await inProcess(envFor(db.url, { DOCKER_HOST: dockerd.dockerHost }));
      cleanups.push(() => s.stop());
      const sc = await prepare(sqlOn(db.url), s.gql, n, dockerd.api);
      await dockerd.restart();
      const ms = await converged({ ...sc, docker: dockerd.api }, Date.now(), 120_000);
      line('dockerd restarted', ms, restartBaseline, 2 * HEALTH_SWEEP_S * 1000);
      await s.stop();
    }

    // 6. No runtime at all, then it appears: the FAILED workspaces come back.
    {
      const db = await database();
      const late = createDockerProxy(DOCKER_HOST);
      cleanups.push(() => late.close());
      const s = await inProcess(envFor(db.url, { DOCKER_HOST: late.dockerHost }));
      cleanups.push(() => s.stop());
      const sql = sqlOn(db.url);
      const ids = await createWorkspaces(s.gql, n, 'bench faults');
      await until(async () => ((await sql.rows(`SELECT 1 FROM workspaces WHERE status = 'FAILED'`)).length === n ? true : undefined), 60_000, 'FAILED');
      await late.listen();
      const sc = { sql, deploymentId: await deploymentIdOf(sql), ids };
      forget(sc);
      const ms = await converged({ ...sc, docker }, Date.now(), 120_000);
      line('runtime returns (workspaces FAILED for want of it)', ms, restartBaseline, 2 * HEALTH_SWEEP_S * 1000);
      await s.stop();
    }
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => console.error('cleanup:', err));
  }
  if (lines.some((l) => l.includes('MISSED'))) process.exitCode = 1;
}

runIfMain(import.meta.url, run);
