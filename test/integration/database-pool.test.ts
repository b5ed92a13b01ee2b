// DATABASE_POOL_MAX (API.md operating contract): the query pool holds up to 20 connections unless told
// otherwise, on either database, and the embedded database accepts as many connections as the pool may
// open (a connection beyond what it accepts used to be dropped: "Connection terminated unexpectedly").
import { afterAll, describe, expect, it } from 'vitest';
import { dbMode } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';

const poolMax = (s: TestServer) => (s.db.pool as unknown as { options: { max: number } }).options.max;

describe('the query pool', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  it('holds 20 connections by default, and DATABASE_POOL_MAX when given', async () => {
    const s = await startTestServer();
    servers.push(s);
    expect(poolMax(s)).toBe(20);
    const small = await startTestServer({ DATABASE_POOL_MAX: '3' });
    servers.push(small);
    expect(poolMax(small)).toBe(3);
  });

  // 30 connections at once would crowd the shared PostgreSQL server that other test files use.
  it.skipIf(dbMode() !== 'embedded')('lets the embedded database serve every connection the pool opens, all at once', async () => {
    const s = await startTestServer({ DATABASE_POOL_MAX: '30' });
    servers.push(s);
    const clients = await Promise.all(Array.from({ length: 30 }, () => s.db.pool.connect()));
    try {
      expect(s.db.pool.totalCount).toBe(30);
      const answers = await Promise.all(clients.map((c, i) => c.query<{ n: number }>('SELECT $1::int AS n', [i])));
      expect(answers.map((a) => a.rows[0]!.n)).toEqual([...Array(30).keys()]);
    } finally {
      for (const c of clients) c.release();
    }
    expect((await s.gql('{ workspaces { totalCount } }')).data.workspaces.totalCount).toBe(0);
  });
});
