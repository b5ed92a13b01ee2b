// An in-process server on a database of the test's choosing (a private cluster, a proxy in front of
// the shared one, a role with a connection limit), with real HTTP on a loopback port.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../config.js';
import { startServer, type RunningServer } from '../../../server.js';
import { DOCKER_HOST } from '../../support/docker-e2e.js';
import { captureLog } from '../../support/log-capture.js';
import { TEST_ADMIN_TOKEN } from '../../support/server.js';
import { FAULT_ENV, type Gql } from './workload.js';

export interface FaultServer extends RunningServer {
  gql: Gql;
  /** The server's log messages (`msg`) at warn and above, in order. */
  warnings: string[];
  /** GraphQL as another credential (null: none). */
  gqlAs(token: string | null, query: string, variables?: Record<string, unknown>): ReturnType<Gql>;
  stop(): Promise<void>;
}

export async function startFaultServer(env: Record<string, string>): Promise<FaultServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'faults-server-'));
  const config = loadConfig({
    ...FAULT_ENV,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(DOCKER_HOST ? { DOCKER_HOST } : {}),
    ...env,
  });
  // Warnings are kept: a test shows that its fault really hit work in flight by what the server said.
  const { logger, messages: warnings } = captureLog('warn');
  const running = await startServer(config, { log: logger });
  let stopped: Promise<void> | null = null;
  const gqlAs = async (token: string | null, query: string, variables?: Record<string, unknown>) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${running.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    const text = await res.text();
    let body: { data?: any; errors?: any[] } = {};
    try {
      body = JSON.parse(text);
    } catch {
      body = { errors: [{ message: text }] };
    }
    return { status: res.status, data: body.data, errors: body.errors, headers: res.headers };
  };
  return {
    ...running,
    warnings,
    gqlAs,
    gql: (q, v) => gqlAs(TEST_ADMIN_TOKEN, q, v),
    // Idempotent: a test may stop its server itself, and the fixture stops it again afterwards.
    stop: () => (stopped ??= running.close().then(() => rmSync(dataDir, { recursive: true, force: true }))),
  };
}
