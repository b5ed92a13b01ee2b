// The embedded default: PGlite persisted under DATA_DIR, served on a loopback socket so that Prisma,
// dbmate and raw SQL all take the same wire-protocol path as against a real PostgreSQL server.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { DEFAULT_POOL_MAX } from './client.js';
import { installProtocolAwareQueue } from './pglite-queue.js';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/** Connections the embedded database accepts besides the query pool's: dbmate's at start-up, and spares. */
export const EMBEDDED_EXTRA_CONNECTIONS = 4;

/**
 * `maxConnections` must exceed 1: with 1, a second pool connection is dropped (DESIGN.md, facts), and
 * so is every connection past it: it must cover the whole query pool (DATABASE_POOL_MAX) and the rest.
 */
export async function startEmbeddedPostgres(dataDir: string, maxConnections = DEFAULT_POOL_MAX + EMBEDDED_EXTRA_CONNECTIONS): Promise<EmbeddedPostgres> {
  const dir = path.resolve(dataDir, 'pgdata');
  await mkdir(dir, { recursive: true });
  // pg_trgm backs the workspace search indexes (migration 20261203200002); PGlite loads an extension
  // only when it is handed over here.
  const db = await PGlite.create(dir, { extensions: { pg_trgm } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections });
  installProtocolAwareQueue(server);
  await server.start();
  const conn = server.getServerConn(); // "127.0.0.1:<port>"
  const port = Number(conn.split(':').pop());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`embedded postgres: unexpected address ${conn}`);
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
