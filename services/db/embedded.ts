// The embedded default: PGlite persisted under DATA_DIR, served on a loopback socket so that Prisma,
// dbmate and raw SQL all take the same wire-protocol path as against a real PostgreSQL server.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { installProtocolAwareQueue } from './pglite-queue.js';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * `maxConnections` must exceed 1: with 1, a second pool connection is dropped (DESIGN.md, facts).
 * The socket multiplexer serialises transactions, so a handful of connections is plenty.
 */
export async function startEmbeddedPostgres(dataDir: string, maxConnections = 16): Promise<EmbeddedPostgres> {
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
