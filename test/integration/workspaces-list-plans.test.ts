// The list statement's plans on a 100,000-workspace fleet: every order with an index (CREATED_AT,
// NAME, STATUS, both directions, first and deep pages, forwards and backwards) reads its page from that
// index with no sort and no sequential scan, both as a generic plan (what a named prepared statement
// settles on, on a PostgreSQL server) and as a custom one; a rare search term goes through the trigram
// indexes. LAST_HEARTBEAT_AT deliberately has no index (see migration 20261203200002) and is a top-N
// sort. Plans, not timings: a timed test would measure the machine.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Prisma } from '../../services/db/client.js';
import { workspacePageStatement, type WorkspaceListArgs } from '../../services/workspaces/list-page.js';
import { DEFAULT_ORDER, encodeCursor, type WorkspaceOrder } from '../../services/workspaces/list-order.js';
import { startTestServer, type TestServer } from '../support/server.js';

const FLEET = 100_000;

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Subplan Name'?: string;
  Alias?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** The plan of the CTE that reads the page itself (materialised, or inlined as a subquery). */
function pagePlan(plan: PlanNode): PlanNode {
  const cte = nodes(plan).find((n) => n['Subplan Name'] === 'CTE p' || (n['Node Type'] === 'Subquery Scan' && n.Alias === 'p'));
  if (!cte) throw new Error(`no page CTE in ${JSON.stringify(plan).slice(0, 2000)}`);
  return cte;
}

function literal(client: pg.PoolClient, v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (Array.isArray(v)) return client.escapeLiteral(`{${v.join(',')}}`);
  return client.escapeLiteral(String(v));
}

describe('workspaces list plans at 100,000 workspaces', () => {
  let s: TestServer;
  let client: pg.PoolClient;
  let middle: { created_us: string; name: string; status: string; id: string };

  beforeAll(async () => {
    // Filling the fleet takes longer than DATABASE_TIMEOUT_MS allows one request statement (PGlite on a
    // loaded machine: well over the default 5 s); it is set-up, not a request.
    s = await startTestServer({ DATABASE_TIMEOUT_MS: '600000' });
    await s.db.pool.query(
      `INSERT INTO workspaces (name, role, status, runtime, last_heartbeat_at, created_at)
       SELECT 'agent-' || md5(i::text), CASE WHEN i % 3 = 0 THEN 'researcher ' || i END,
              (ARRAY['ONLINE','ONLINE','ONLINE','DEGRADED','OFFLINE','PAUSED','REMOVED','AWAITING_AGENT','FAILED','HIBERNATED'])[1 + i % 10]::workspace_status,
              'external', CASE WHEN i % 4 <> 0 THEN now() - (i || ' seconds')::interval END,
              now() - ((${FLEET} - i) || ' seconds')::interval
         FROM generate_series(1, ${FLEET}) i`,
    );
    await s.db.pool.query('VACUUM ANALYZE workspaces');
    middle = (
      await s.db.pool.query(`SELECT (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_us, name, status::text AS status, id
                               FROM workspaces ORDER BY created_at, id OFFSET ${FLEET / 2} LIMIT 1`)
    ).rows[0];
    client = await s.db.pool.connect();
  }, 180_000);
  afterAll(async () => {
    client?.release();
    await s?.stop();
  });

  async function explain(sql: Prisma.Sql, mode: 'generic' | 'custom'): Promise<PlanNode> {
    await client.query('BEGIN');
    try {
      await client.query(`SET LOCAL plan_cache_mode = force_${mode}_plan`);
      await client.query(`PREPARE plan_probe AS ${sql.text}`);
      const args = sql.values.map((v) => literal(client, v)).join(', ');
      const r = await client.query(`EXPLAIN (FORMAT JSON) EXECUTE plan_probe(${args})`);
      await client.query('DEALLOCATE plan_probe');
      return (r.rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan;
    } finally {
      await client.query('COMMIT');
    }
  }

  const args = (o: Partial<WorkspaceListArgs>): WorkspaceListArgs => ({
    size: 20,
    backward: false,
    after: null,
    before: null,
    status: null,
    parentId: null,
    includeRemoved: false,
    search: null,
    orderBy: DEFAULT_ORDER,
    ...o,
  });
  // With every relation, as the board's list asks: the page CTE is then read several times (materialised).
  const relations = { parent: true, children: true, tokens: true, secretKeys: true, childCount: true };
  const statement = (a: WorkspaceListArgs) => workspacePageStatement(a, relations, { eventCursor: true })!;
  const keyOf = (order: WorkspaceOrder) =>
    order.field === 'CREATED_AT' ? middle.created_us : order.field === 'NAME' ? middle.name : order.field === 'STATUS' ? middle.status : null;

  const INDEXED: Array<[WorkspaceOrder, string]> = [
    [{ field: 'CREATED_AT', direction: 'ASC' }, 'workspaces_created_idx'],
    [{ field: 'CREATED_AT', direction: 'DESC' }, 'workspaces_created_idx'],
    [{ field: 'NAME', direction: 'ASC' }, 'workspaces_name_order_idx'],
    [{ field: 'NAME', direction: 'DESC' }, 'workspaces_name_order_idx'],
    [{ field: 'STATUS', direction: 'ASC' }, 'workspaces_status_order_idx'],
    [{ field: 'STATUS', direction: 'DESC' }, 'workspaces_status_order_idx'],
  ];

  for (const [order, index] of INDEXED) {
    for (const mode of ['generic', 'custom'] as const) {
      it(`reads ${order.field} ${order.direction} pages from ${index} without a sort (${mode} plan)`, async () => {
        const scope = args({ orderBy: order });
        const cursor = encodeCursor(order, scope, { key: keyOf(order), id: middle.id });
        for (const a of [scope, args({ orderBy: order, after: cursor }), args({ orderBy: order, before: cursor, backward: true })]) {
          const page = nodes(pagePlan(await explain(statement(a), mode)));
          const types = page.map((n) => n['Node Type']);
          expect(types, JSON.stringify(page)).not.toContain('Sort');
          expect(types).not.toContain('Seq Scan');
          expect(page.some((n) => n['Index Name'] === index)).toBe(true);
        }
      });
    }
  }

  it('finds a rare search term through the trigram indexes', async () => {
    const page = nodes(pagePlan(await explain(statement(args({ search: 'abcde' })), 'custom')));
    const indexes = page.map((n) => n['Index Name']).filter(Boolean);
    expect(indexes).toEqual(expect.arrayContaining(['workspaces_name_trgm_idx', 'workspaces_role_trgm_idx']));
    expect(page.map((n) => n['Node Type'])).not.toContain('Seq Scan');
  });

  it('sorts LAST_HEARTBEAT_AT (no index, so that heartbeats stay HOT updates)', async () => {
    const page = nodes(pagePlan(await explain(statement(args({ orderBy: { field: 'LAST_HEARTBEAT_AT', direction: 'DESC' } })), 'generic')));
    expect(page.map((n) => n['Node Type'])).toContain('Sort');
  });
});
