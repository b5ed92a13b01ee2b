// A throwaway database on the PostgreSQL server for one benchmark run (benchmarks measure against a
// real server, never the embedded one), dropped when the run ends.
import { randomBytes } from 'node:crypto';
import { createScratchDatabase, type ScratchDatabase } from '../services/db/scratch-database.js';

export type { ScratchDatabase };

export function scratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const base = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  return createScratchDatabase(base, `bench_${prefix}_${randomBytes(4).toString('hex')}`);
}

/**
 * The environment of a server under benchmark: the scratch database, no container runtime, a fresh
 * secrets key, and a rate limit high enough that the load (all from one IP) does not measure the
 * limiter. `overrides` wins.
 */
export function benchServerEnv(
  db: ScratchDatabase,
  dataDir: string,
  adminToken: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    ADMIN_TOKEN: adminToken,
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    CONTAINER_RUNTIME: 'none',
    RATE_LIMIT_PER_MIN: '1000000000',
    ...overrides,
  };
}
