// workspaces(orderBy:, search:, last:, before:) and pageInfo in both directions (API.md "Pagination and
// ordering"): every order is checked against an order computed here from the contract's words, walked
// page by page forwards and backwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_STATUSES } from '../../services/workspaces/record.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createExternal } from '../graphql/fixtures.js';

type Field = 'CREATED_AT' | 'NAME' | 'STATUS' | 'LAST_HEARTBEAT_AT';
type Direction = 'ASC' | 'DESC';
interface Row {
  id: string;
  name: string;
  role: string | null;
  status: string;
  created_us: string;
  hb_us: string | null;
}

const PAGE = `query($first: Int, $after: String, $last: Int, $before: String, $orderBy: WorkspaceOrder, $search: String,
                    $status: [WorkspaceStatus!], $parentId: ID, $includeRemoved: Boolean) {
  workspaces(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy, search: $search,
             status: $status, parentId: $parentId, includeRemoved: $includeRemoved) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id } }
  }
}`;

// Names chosen so that byte order differs from a case-insensitive or locale order.
const NAMES = ['beta', 'Alpha', 'alpha', 'Zeta', 'gamma', '_under', '%pct', 'back\\slash', 'mid_dle', '50% off', 'ÄØ', 'delta', 'Delta', 'eta'];

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The order API.md describes: by the field, then by id in the same direction; nulls of
 * LAST_HEARTBEAT_AT last in both directions; STATUS in the enum's declaration order. */
function expectedOrder(rows: Row[], field: Field, direction: Direction): string[] {
  const sign = direction === 'ASC' ? 1 : -1;
  const big = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);
  const byId = (a: Row, b: Row) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return [...rows]
    .sort((a, b) => {
      if (field === 'LAST_HEARTBEAT_AT' && (a.hb_us === null) !== (b.hb_us === null)) return a.hb_us === null ? 1 : -1;
      let c = 0;
      if (field === 'CREATED_AT') c = big(a.created_us, b.created_us);
      if (field === 'NAME') c = compareBytes(a.name, b.name);
      if (field === 'STATUS') c = WORKSPACE_STATUSES.indexOf(a.status as never) - WORKSPACE_STATUSES.indexOf(b.status as never);
      if (field === 'LAST_HEARTBEAT_AT' && a.hb_us !== null && b.hb_us !== null) c = big(a.hb_us, b.hb_us);
      return sign * (c !== 0 ? c : byId(a, b));
    })
    .map((r) => r.id);
}

describe('workspaces orderBy, search, last/before', () => {
  let s: TestServer;
  let rows: Row[] = [];

  beforeAll(async () => {
    s = await startTestServer();
    for (const [i, name] of NAMES.entries()) {
      await createExternal(s, { name, role: i % 3 === 0 ? `Role ${i} with 100%_match\\here` : i % 3 === 1 ? 'researcher' : null });
    }
    // Ties on every key (created_at, name, status, heartbeat) so that the id decides, and never-heard-from rows.
    await s.db.pool.query(`UPDATE workspaces SET created_at = '2026-01-01T00:00:00.000001Z' WHERE name IN ('beta', 'gamma', 'delta')`);
    await s.db.pool.query(`UPDATE workspaces SET name = 'twin' WHERE name IN ('eta', 'Zeta')`);
    const statuses = ['ONLINE', 'DEGRADED', 'PAUSED', 'FAILED', 'AWAITING_AGENT', 'ONLINE', 'HIBERNATED'];
    const ids = (await s.db.pool.query<{ id: string }>('SELECT id FROM workspaces ORDER BY created_at, id')).rows.map((r) => r.id);
    for (const [i, id] of ids.entries()) {
      const hb = i % 4 === 0 ? null : i % 4 === 1 ? '2026-02-01T00:00:00.123456Z' : `2026-02-0${1 + (i % 9)}T10:00:00Z`;
      await s.db.pool.query('UPDATE workspaces SET status = $2::workspace_status, last_heartbeat_at = $3 WHERE id = $1', [id, statuses[i % statuses.length], hb]);
    }
    rows = (
      await s.db.pool.query<Row>(`SELECT id, name, role, status::text AS status,
          (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_us,
          (extract(epoch FROM last_heartbeat_at) * 1000000)::bigint::text AS hb_us FROM workspaces`)
    ).rows;
  });
  afterAll(async () => {
    await s?.stop();
  });

  const page = async (vars: Record<string, unknown>) => {
    const r = await s.gql(PAGE, vars);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    return r.data.workspaces as {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
      edges: Array<{ cursor: string; node: { id: string } }>;
    };
  };
  const code = async (vars: Record<string, unknown>) => (await s.gql(PAGE, vars)).errors?.[0]?.extensions?.code;

  const ORDERS: Array<[Field, Direction]> = (['CREATED_AT', 'NAME', 'STATUS', 'LAST_HEARTBEAT_AT'] as const).flatMap((f) =>
    (['ASC', 'DESC'] as const).map((d): [Field, Direction] => [f, d]),
  );

  it.each(ORDERS)('orders by %s %s, walking forward with first/after', async (field, direction) => {
    const orderBy = { field, direction };
    const seen: string[] = [];
    let after: string | null = null;
    let first = true;
    for (;;) {
      const p = await page({ first: 4, after, orderBy });
      expect(p.pageInfo.hasPreviousPage).toBe(!first);
      expect(p.pageInfo.startCursor).toBe(p.edges[0]?.cursor ?? null);
      seen.push(...p.edges.map((e) => e.node.id));
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
      first = false;
    }
    expect(seen).toEqual(expectedOrder(rows, field, direction));
  });

  it.each(ORDERS)('orders by %s %s, walking backward with last/before, still in that order', async (field, direction) => {
    const orderBy = { field, direction };
    const pages: string[][] = [];
    let before: string | null = null;
    let last = true;
    for (;;) {
      const p = await page({ last: 4, before, orderBy });
      expect(p.pageInfo.hasNextPage).toBe(!last);
      pages.unshift(p.edges.map((e) => e.node.id));
      if (!p.pageInfo.hasPreviousPage) break;
      before = p.pageInfo.startCursor;
      last = false;
    }
    expect(pages.flat()).toEqual(expectedOrder(rows, field, direction));
  });

  it('answers last N alone with the last N matches, and defaults direction to ASC', async () => {
    const expected = expectedOrder(rows, 'NAME', 'ASC');
    const p = await page({ last: 3, orderBy: { field: 'NAME' } });
    expect(p.edges.map((e) => e.node.id)).toEqual(expected.slice(-3));
    expect(p.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const all = await page({ last: 100, orderBy: { field: 'NAME' } });
    expect(all.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    const none = await page({ last: 0 });
    expect(none).toMatchObject({ edges: [], totalCount: rows.length, pageInfo: { hasNextPage: false, hasPreviousPage: false } });
  });

  it('reads a window between after and before', async () => {
    const orderBy = { field: 'STATUS', direction: 'DESC' };
    const expected = expectedOrder(rows, 'STATUS', 'DESC');
    const all = (await page({ first: 100, orderBy })).edges;
    const inside = await page({ first: 100, orderBy, after: all[2]!.cursor, before: all[8]!.cursor });
    expect(inside.edges.map((e) => e.node.id)).toEqual(expected.slice(3, 8));
    const tail = await page({ last: 2, orderBy, after: all[2]!.cursor, before: all[8]!.cursor });
    expect(tail.edges.map((e) => e.node.id)).toEqual(expected.slice(6, 8));
    expect(tail.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
  });

  it('refuses first with last, and a negative last, with BAD_USER_INPUT', async () => {
    expect(await code({ first: 2, last: 2 })).toBe('BAD_USER_INPUT');
    expect(await code({ last: -1 })).toBe('BAD_USER_INPUT');
  });

  it('refuses a cursor used with another orderBy, search, status, parentId or includeRemoved', async () => {
    const base = { orderBy: { field: 'NAME', direction: 'ASC' }, search: 'a', status: ['ONLINE', 'PAUSED'], includeRemoved: false };
    const cursor = (await page({ ...base, first: 1 })).pageInfo.endCursor!;
    // The same arguments (status given in another order) accept it, as after and as before.
    expect((await s.gql(PAGE, { ...base, status: ['PAUSED', 'ONLINE'], after: cursor })).errors).toBeUndefined();
    expect((await s.gql(PAGE, { ...base, before: cursor })).errors).toBeUndefined();
    for (const change of [
      { orderBy: { field: 'NAME', direction: 'DESC' } },
      { orderBy: { field: 'CREATED_AT', direction: 'ASC' } },
      { search: 'A' },
      { search: null },
      { status: ['ONLINE'] },
      { parentId: rows[0]!.id },
      { includeRemoved: true },
    ]) {
      expect(await code({ ...base, ...change, after: cursor }), JSON.stringify(change)).toBe('BAD_USER_INPUT');
      expect(await code({ ...base, ...change, before: cursor }), JSON.stringify(change)).toBe('BAD_USER_INPUT');
    }
    expect(await code({ after: 'not-a-cursor' })).toBe('BAD_USER_INPUT');
    expect(await code({ before: Buffer.from('["x",null,"nope"]').toString('base64url') })).toBe('BAD_USER_INPUT');
  });

  it('searches name or role case-insensitively; %, _ and \\ match themselves', async () => {
    const search = async (term: string) => {
      const p = await page({ first: 100, search: term });
      expect(p.totalCount).toBe(p.edges.length);
      return new Set(p.edges.map((e) => e.node.id));
    };
    const matching = (test: (text: string) => boolean) =>
      new Set(rows.filter((r) => test(r.name.toLowerCase()) || (r.role !== null && test(r.role.toLowerCase()))).map((r) => r.id));
    for (const term of ['ALPHA', 'a', '%', '_', '\\', '0%', '%_', 'Role 3 with 100%_MATCH\\HERE', 'x%y', '_u', 'äø', 'RESEARCH']) {
      expect(await search(term), term).toEqual(matching((t) => t.includes(term.toLowerCase())));
    }
    // The wildcard characters are literal: '%' is not "anything", '_' not "any one character".
    expect((await search('%')).size).toBeLessThan(rows.length);
    expect(await search('a_p')).toEqual(new Set());
    // Combines with the other filters.
    const paused = await page({ first: 100, search: 'a', status: ['PAUSED'] });
    expect(paused.edges.map((e) => e.node.id).sort()).toEqual(
      rows.filter((r) => r.status === 'PAUSED' && (r.name.toLowerCase().includes('a') || r.role?.toLowerCase().includes('a'))).map((r) => r.id).sort(),
    );
  });

  it('accepts a search of 1 to 200 characters and refuses 0 or 201 with BAD_USER_INPUT', async () => {
    expect((await s.gql(PAGE, { search: 'x'.repeat(200) })).errors).toBeUndefined();
    expect((await s.gql(PAGE, { search: '😀'.repeat(200) })).errors).toBeUndefined();
    expect(await code({ search: '' })).toBe('BAD_USER_INPUT');
    expect(await code({ search: 'x'.repeat(201) })).toBe('BAD_USER_INPUT');
  });

  it('refuses a cursor whose sort key was tampered with (out of range, NUL) with BAD_USER_INPUT, never a masked error', async () => {
    // A client can decode an opaque cursor and change its key while keeping what it was made for.
    const tamper = (cursor: string, key: unknown) => {
      const parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
      return Buffer.from(JSON.stringify([parts[0], key, parts[2]]), 'utf8').toString('base64url');
    };
    for (const field of ['CREATED_AT', 'LAST_HEARTBEAT_AT', 'NAME', 'STATUS'] as const) {
      for (const direction of ['ASC', 'DESC'] as const) {
        const orderBy = { field, direction };
        const cursor = (await page({ first: 1, orderBy })).pageInfo.endCursor!;
        const keys = field === 'NAME' ? ['a\u0000b', '\u0000'] : field === 'STATUS' ? ['SLEEPING', 'online'] : ['9999999999999999999', '-9999999999999999999', '-9223372036854775808', '9223372036854775808'];
        for (const key of keys) {
          for (const arg of ['after', 'before'] as const) {
            const r = await s.gql(PAGE, { orderBy, first: arg === 'after' ? 5 : undefined, last: arg === 'before' ? 5 : undefined, [arg]: tamper(cursor, key) });
            expect(r.errors?.map((e) => e.extensions?.code), `${field} ${direction} ${arg} ${JSON.stringify(key)}`).toEqual(['BAD_USER_INPUT']);
          }
        }
        // The extremes of PostgreSQL's timestamps are still positions: everything or nothing lies beyond them.
        if (field === 'CREATED_AT' || field === 'LAST_HEARTBEAT_AT') {
          for (const key of ['-210866803200000000', '9223372036854775807']) {
            const r = await s.gql(PAGE, { orderBy, first: 100, after: tamper(cursor, key) });
            expect(r.errors, `${field} ${direction} ${key}`).toBeUndefined();
          }
        }
      }
    }
  });

  it('matches nothing for a search holding NUL (no name or role can hold one), and fails on nothing', async () => {
    for (const search of ['\u0000', 'a\u0000', '%\u0000_']) {
      const r = await s.gql(PAGE, { search, first: 10 });
      expect(r.errors, JSON.stringify(search)).toBeUndefined();
      expect(r.data.workspaces).toMatchObject({ totalCount: 0, edges: [] });
    }
  });
});
