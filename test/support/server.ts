// Starts a real server (real HTTP on a loopback port, real database) for one test file.
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../config.js';
import { startServer, type RunningServer, type StartOptions } from '../../server.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestServer extends RunningServer {
  database: TestDatabase;
  /** POST /graphql over real HTTP. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GqlResponse<T>>;
  /** Any request to the server over real HTTP. */
  http(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export interface GqlResponse<T> {
  status: number;
  data: T;
  errors?: Array<{ message: string; extensions?: Record<string, unknown>; path?: string[] }>;
}

/**
 * `env` entries override the test defaults (same names as the environment variables); `opts` reach
 * startServer (e.g. `runtime: createFakeRuntime()`).
 */
export async function startTestServer(env: Record<string, string> = {}, opts: StartOptions = {}): Promise<TestServer> {
  const database = await createTestDatabase();
  const config: Config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: database.dataDir,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    CONTAINER_RUNTIME: 'none',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  let running: RunningServer;
  try {
    running = await startServer(config, opts);
  } catch (err) {
    await database.drop();
    throw err;
  }
  const http = (p: string, init?: RequestInit) => fetch(`${running.url}${p}`, init);
  return {
    ...running,
    database,
    http,
    async gql(query, variables, token = TEST_ADMIN_TOKEN) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await http('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      const body = (await res.json()) as { data: any; errors?: any };
      return { status: res.status, data: body.data, errors: body.errors };
    },
    async stop() {
      await running.close();
      await database.drop();
    },
  };
}
