// What every fault test file sets up and tears down: the agent image, a database of its own on the
// shared server, the servers it starts, and every container and volume their deployments made.
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { ensureAgentImage, rawDocker } from '../../support/docker-e2e.js';
import { deploymentIdOf, removeDeployment, sqlOn, type Sql } from './convergence.js';
import { startFaultServer, type FaultServer } from './servers.js';

export interface FaultFixture {
  /** The file's database (created before its tests). */
  readonly database: TestDatabase;
  /** Starts a server (stopped after the file); `sqlUrl` reads its database straight (default: the file's). */
  server(env: Record<string, string>, sqlUrl?: string): Promise<{ s: FaultServer; sql: Sql; deploymentId: string }>;
  /** Runs after the file, before the servers stop (last registered first). */
  cleanup(fn: () => Promise<unknown>): void;
}

export function faultFixture(setUp: () => Promise<unknown> = async () => {}): FaultFixture {
  let database: TestDatabase | undefined;
  const servers: FaultServer[] = [];
  const deployments: string[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    await ensureAgentImage();
    database = await createTestDatabase();
    await setUp();
  }, 180_000);
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    for (const s of servers) await s.stop().catch(() => {});
    for (const d of deployments) await removeDeployment(rawDocker, d).catch(() => {});
    await database?.drop();
  });

  return {
    get database() {
      if (!database) throw new Error('the fault fixture has not set up yet');
      return database;
    },
    async server(env, sqlUrl) {
      const s = await startFaultServer({ DATABASE_URL: database!.url!, ...env });
      servers.push(s);
      const sql = sqlOn(sqlUrl ?? env.DATABASE_URL ?? database!.url!);
      const deploymentId = await deploymentIdOf(sql);
      deployments.push(deploymentId);
      return { s, sql, deploymentId };
    },
    cleanup: (fn) => void cleanups.push(fn),
  };
}
