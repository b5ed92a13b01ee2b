// A fresh database for each test file. Server project: a new database on TEST_DATABASE_URL, named
// after the vitest worker; embedded project: a PGlite data directory in a temp folder.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createScratchDatabase } from '../../services/db/scratch-database.js';

export type DbMode = 'embedded' | 'server';

export function dbMode(): DbMode {
  return process.env.TEST_DB_MODE === 'server' ? 'server' : 'embedded';
}

export function serverBaseUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
}

export interface TestDatabase {
  /** undefined in embedded mode: the server starts its own PGlite under dataDir. */
  url: string | undefined;
  dataDir: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ws-test-'));
  if (dbMode() === 'embedded') {
    return { url: undefined, dataDir, drop: () => rm(dataDir, { recursive: true, force: true }) };
  }
  const worker = process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? '0';
  const name = `ws_test_w${worker}_${randomBytes(4).toString('hex')}`;
  const scratch = await createScratchDatabase(serverBaseUrl(), name);
  return {
    url: scratch.url,
    dataDir,
    async drop() {
      await scratch.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
