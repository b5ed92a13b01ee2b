// Start-up rules for the two platform secrets (API.md, operating contract):
// - ADMIN_TOKEN: without it, one is generated at first start; its hash goes to the database (so every
//   instance accepts it) and its plaintext to DATA_DIR with mode 0600, printed once.
// - SECRETS_ENCRYPTION_KEY: generated into DATA_DIR in embedded mode, required with DATABASE_URL; its
//   fingerprint is stored, and an instance holding another key refuses to start.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../db/client.js';
import { hashToken, mintToken } from '../tokens/secret-token.js';

export class StartupError extends Error {
  name = 'StartupError';
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function writeSecretFile(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${content}\n`, { mode: 0o600, flag: 'wx' });
}

async function ensureSettingsRow(db: Database): Promise<void> {
  await db.prisma.$executeRaw`/* ensurePlatformSettings */ INSERT INTO platform_settings (id) VALUES (1) ON CONFLICT (id) DO NOTHING`;
}

export interface AdminTokenSetup {
  hashes: string[];
  /** Set only when this start generated the token: print it once. */
  generatedPlaintext?: string;
  file?: string;
}

export async function setupAdminToken(db: Database, opts: { adminToken?: string; dataDir: string }): Promise<AdminTokenSetup> {
  if (opts.adminToken) return { hashes: [hashToken(opts.adminToken)] };
  await ensureSettingsRow(db);
  const file = path.resolve(opts.dataDir, 'admin-token');
  const minted = mintToken();
  // Only the first instance to get here stores its hash; the others adopt it.
  const claimed = await db.prisma.$executeRaw`
    /* claimAdminTokenHash */
    UPDATE platform_settings SET admin_token_hash = ${minted.hash}, updated_at = now()
     WHERE id = 1 AND admin_token_hash IS NULL`;
  if (claimed === 1) {
    await writeSecretFile(file, minted.plaintext).catch(async (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      await writeFile(file, `${minted.plaintext}\n`, { mode: 0o600 });
    });
    return { hashes: [minted.hash], generatedPlaintext: minted.plaintext, file };
  }
  const row = await db.prisma.platformSettings.findUnique({ where: { id: 1 } });
  return { hashes: row?.adminTokenHash ? [row.adminTokenHash] : [], file };
}

export function keyFingerprint(key: Buffer): string {
  return createHash('sha256').update('secrets-key:').update(key).digest('hex').slice(0, 32);
}

function decodeKey(b64: string): Buffer {
  const key = Buffer.from(b64.trim(), 'base64');
  if (key.length !== 32) throw new StartupError('SECRETS_ENCRYPTION_KEY must be 32 bytes, base64-encoded');
  return key;
}

export async function setupSecretsKey(
  db: Database,
  opts: { secretsKey?: string; dataDir: string; embedded: boolean },
): Promise<Buffer> {
  let key: Buffer;
  if (opts.secretsKey) key = decodeKey(opts.secretsKey);
  else if (!opts.embedded) {
    throw new StartupError('SECRETS_ENCRYPTION_KEY is required when DATABASE_URL is set (instances share data)');
  } else {
    const file = path.resolve(opts.dataDir, 'secrets.key');
    const existing = await readIfExists(file);
    if (existing) key = decodeKey(existing);
    else {
      key = randomBytes(32);
      await writeSecretFile(file, key.toString('base64'));
    }
  }
  await ensureSettingsRow(db);
  const fp = keyFingerprint(key);
  await db.prisma.$executeRaw`
    /* claimSecretsKeyFingerprint */
    UPDATE platform_settings SET secrets_key_fingerprint = ${fp}, updated_at = now()
     WHERE id = 1 AND secrets_key_fingerprint IS NULL`;
  const row = await db.prisma.platformSettings.findUnique({ where: { id: 1 } });
  if (row?.secretsKeyFingerprint !== fp) {
    throw new StartupError('SECRETS_ENCRYPTION_KEY does not match the key this database was set up with; refusing to start');
  }
  return key;
}
