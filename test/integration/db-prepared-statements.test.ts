// db.query sends named (prepared) statements on a PostgreSQL server. A migration that another instance
// applies while this one runs changes what a prepared `SELECT *` returns, and PostgreSQL refuses the
// prepared statement from then on; the reads must carry on. (Embedded PGlite sends no names: there the
// same steps simply have to keep working.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createExternal } from '../graphql/fixtures.js';

describe('prepared statements across a schema change', () => {
  let s: TestServer;
  let id = '';
  beforeAll(async () => {
    s = await startTestServer();
    id = (await createExternal(s, { name: 'before' })).workspace.id;
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('keeps answering after a column is added to a table it reads with SELECT *', async () => {
    // Several rounds, so every pooled connection in use has prepared the statement.
    for (let i = 0; i < 5; i++) {
      const rows = await Promise.all([1, 2, 3].map(() => s.services.workspaces.getByIds([id])));
      expect(rows.map((r) => r[0]?.name)).toEqual(['before', 'before', 'before']);
    }
    await s.db.pool.query(`ALTER TABLE workspaces ADD COLUMN added_by_a_newer_instance int`);
    for (let i = 0; i < 5; i++) {
      const rows = await Promise.all([1, 2, 3].map(() => s.services.workspaces.getByIds([id])));
      expect(rows.map((r) => r[0]?.name)).toEqual(['before', 'before', 'before']);
    }
    const list = await s.gql<{ workspaces: { totalCount: number } }>(`{ workspaces { totalCount } }`);
    expect(list.data.workspaces.totalCount).toBe(1);
  });
});
