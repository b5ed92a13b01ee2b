// Migrations are plain SQL applied by dbmate: Prisma's migration engine is a downloaded binary that an
// offline machine cannot fetch (DESIGN.md).
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MIGRATIONS_DIR = path.join(root, 'prisma/migrations');

function dbmateBinary(): string {
  const require = createRequire(import.meta.url);
  return require.resolve(`@dbmate/${process.platform}-${process.arch === 'x64' ? 'x64' : process.arch}/bin/dbmate`);
}

/** dbmate speaks lib/pq, which wants an explicit sslmode for a server without TLS. */
function withSslMode(url: string): string {
  const u = new URL(url);
  if (!u.searchParams.has('sslmode')) u.searchParams.set('sslmode', 'disable');
  return u.toString();
}

export async function migrate(url: string): Promise<string> {
  const { stdout } = await run(
    dbmateBinary(),
    ['--url', withSslMode(url), '--migrations-dir', MIGRATIONS_DIR, '--no-dump-schema', 'up'],
    { timeout: 120_000 },
  );
  return stdout;
}
