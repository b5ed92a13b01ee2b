// Runs `prisma generate` offline. Generate never executes the schema engine, but Prisma insists on
// finding one; pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file skips the download that an
// offline machine cannot make (DESIGN.md, facts).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(import.meta.url);
const result = spawnSync('npx', ['--no-install', 'prisma', 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
