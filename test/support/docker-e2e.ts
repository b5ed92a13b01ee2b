// Shared set-up of the Docker end-to-end tests: the daemon check, the agent image, one database per
// test file shared by every server the file starts, and cleanup of every container and volume made.
//
// Several test files run at once against one daemon, each with its own database. An orphan sweeper
// would rightly reap the containers of the other files (labeled, but without a row in its database),
// so every server of these files is kept from leading the orphan sweeper: the file holds that loop's
// leadership lock itself on a session of its database.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { LOOP_NAMES } from '../../services/reconcilers/index.js';
import { RECONCILER_LOCK_CLASS } from '../../services/reconcilers/leadership.js';
import { createDockerRuntime } from '../../services/runtime/docker.js';
import { dockerClient, parseDockerHost } from '../../services/runtime/docker-connection.js';
import { LABEL_WORKSPACE_ID, configVolumeFor } from '../../services/runtime/types.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { createDockerProxy, type DockerProxy } from './docker-proxy.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from './server.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DOCKER_HOST = process.env.DOCKER_HOST;
export const AGENT_IMAGE = 'workspace-agent:latest';

export const dockerAvailable = await createDockerRuntime({ dockerHost: DOCKER_HOST }).ping();

/** The raw daemon, for checks the server does not expose (inspect details, volumes). */
export const rawDocker = dockerClient(parseDockerHost(DOCKER_HOST), 30_000);

export async function ensureAgentImage(): Promise<void> {
  if (await createDockerRuntime({ dockerHost: DOCKER_HOST }).imageExists(AGENT_IMAGE)) return;
  execFileSync('bash', [join(REPO_ROOT, 'agent/build-image.sh')], { stdio: 'inherit' });
}

export interface E2eDatabase {
  db: TestDatabase;
  /** Environment every server of the file gets: one database, one secrets key. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function openE2eDatabase(): Promise<E2eDatabase> {
  const db = await createTestDatabase();
  if (!db.url) throw new Error('the Docker end-to-end tests run in the server project (TEST_DB_MODE=server)');
  const holder = new pg.Client({ connectionString: db.url });
  await holder.connect();
  await holder.query('SELECT pg_advisory_lock($1::int, $2::int)', [RECONCILER_LOCK_CLASS, LOOP_NAMES.indexOf('orphan-sweeper') + 1]);
  return {
    db,
    env: {
      DATABASE_URL: db.url,
      SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      CONTAINER_RUNTIME: 'docker',
      DOCKER_NETWORK: 'host',
      HEARTBEAT_INTERVAL_S: '1',
      // The tests poll status over HTTP from one address; the per-IP limit is tested elsewhere.
      RATE_LIMIT_PER_MIN: '1000000',
    },
    async close() {
      await holder.end().catch(() => {});
      await db.drop();
    },
  };
}

export interface ProxiedDockerServer {
  server: TestServer;
  /** Every Docker API call of the server passes here: a test can hold one, or count those in flight. */
  proxy: DockerProxy;
  /** Workspace ids whose containers and volumes close() removes. */
  created: string[];
  close(): Promise<void>;
}

/** A server on this file's database (see openE2eDatabase) reaching the daemon through a proxy. */
export async function startProxiedDockerServer(): Promise<ProxiedDockerServer> {
  await ensureAgentImage();
  const e2e = await openE2eDatabase();
  const proxy = createDockerProxy(DOCKER_HOST);
  await proxy.listen();
  const server = await startTestServer({ ...e2e.env, DOCKER_HOST: proxy.dockerHost });
  const created: string[] = [];
  return {
    server,
    proxy,
    created,
    async close() {
      await server.stop();
      await removeDockerResources(created).catch(() => {});
      await proxy.close();
      await e2e.close();
    },
  };
}

/** Force-removes the containers and config volumes of these workspaces. */
export async function removeDockerResources(workspaceIds: readonly string[]): Promise<void> {
  for (const id of workspaceIds) {
    const containers = await rawDocker.listContainers({ all: true, filters: { label: [`${LABEL_WORKSPACE_ID}=${id}`] } });
    for (const c of containers) await rawDocker.getContainer(c.Id).remove({ force: true }).catch(() => {});
    await rawDocker.getVolume(configVolumeFor(id)).remove().catch(() => {});
  }
}

export interface ChildServer {
  url: string;
  process: ChildProcess;
  output(): string;
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<{ status: number; data: T; errors?: any[] }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Runs `server.ts` as its own process (node with the tsx loader: one process, so a SIGKILL hits the
 * server itself and not a wrapper), and resolves once it listens.
 */
export async function spawnServer(env: Record<string, string>): Promise<ChildServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ws-child-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_TOKEN: TEST_ADMIN_TOKEN, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000);
    const onData = () => {
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)\/graphql"/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  return {
    url,
    process: child,
    output: () => output,
    async gql(query, variables) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data: any; errors?: any[] };
      return { status: res.status, data: body.data, errors: body.errors };
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
