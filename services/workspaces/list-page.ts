// The keyset-paginated workspace list, read in ONE statement together with whatever relations of the
// listed workspaces the caller asks for (parent, children, live tokens, secret keys), as one JSON value.
//
// Why one statement: a list of 50 with its relations used to take five round trips (the page, then
// one DataLoader batch per relation), and each round trip's socket write and read cost the request
// more CPU than any other single part of it (profiled with bench/api.ts). The relation sets repeat,
// exactly, the predicates and order of the batch reads they stand in for (queries.ts
// readWorkspacesByIds and readChildren, tokens listLive, secrets listKeys), so a primed DataLoader
// answers what it would have read; test/integration/workspaces-list-relations.test.ts holds them to it.
import { Prisma, type Database } from '../db/client.js';
import { readEventCursor } from '../events/queries.js';
import { groupBy } from '../group-by.js';
import { tokenFromRow, type TokenRecord } from '../tokens/records.js';
import { isUuid, workspaceFromRow, type WorkspaceRecord } from './record.js';
import { cursorEncoder, cursorKeySql, decodeCursor, keysetPredicate, orderBySql, searchPredicate, type CursorScope, type Position, type WorkspaceOrder } from './list-order.js';

export interface WorkspaceListArgs extends CursorScope {
  /** How many rows: the first N (from `after`), or with `backward` the last N (before `before`). */
  size: number;
  backward: boolean;
  after: string | null;
  before: string | null;
  orderBy: WorkspaceOrder;
}

/** What of the connection, beyond its edges, the query asks for (each costs a read of its own). */
export interface WorkspaceListExtras {
  totalCount?: boolean;
  eventCursor?: boolean;
}

/** Which relations of the listed workspaces to read along with the page. */
export interface WorkspaceListRelations {
  parent?: boolean;
  children?: boolean;
  tokens?: boolean;
  secretKeys?: boolean;
  childCount?: boolean;
}

/** A listed workspace and the relations that were asked for (absent when not asked). */
export interface ListedWorkspace {
  workspace: WorkspaceRecord;
  cursor: string;
  /** null: no parent (or a parent id that matches no row). */
  parent?: WorkspaceRecord | null;
  /** Non-REMOVED children, oldest first. */
  children?: WorkspaceRecord[];
  /** Unrevoked tokens, newest first. */
  tokens?: TokenRecord[];
  /** Secret names, sorted. */
  secretKeys?: string[];
  /** Non-REMOVED direct children. */
  childCount?: number;
}

export interface WorkspaceListPage {
  workspaces: ListedWorkspace[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  /** Present when asked for (WorkspaceListExtras). */
  totalCount?: number;
  /** The newest committed event id in the page's own snapshot ("0" on an empty log), when asked for. */
  eventCursor?: string;
}

function listFilter(args: WorkspaceListArgs): Prisma.Sql {
  // An explicit status filter wins over includeRemoved (API.md): listing REMOVED returns removed rows.
  const status = args.status
    ? Prisma.sql`w.status = ANY(${[...args.status]}::workspace_status[])`
    : args.includeRemoved
      ? Prisma.sql`true`
      : Prisma.sql`w.status <> 'REMOVED'`;
  const parent = args.parentId === null ? Prisma.empty : Prisma.sql`AND w.parent_id = ${args.parentId}::uuid`;
  const search = args.search === null ? Prisma.empty : Prisma.sql`AND ${searchPredicate(args.search)}`;
  return Prisma.sql`${status} ${parent} ${search}`;
}

/**
 * The JSON members beside the page for each relation asked for: like the DataLoader batches they stand
 * in for, each is ONE set for the whole page (a parent shared by nine listed children is read once).
 */
function relationMembers(want: WorkspaceListRelations): Prisma.Sql {
  const members: Prisma.Sql[] = [];
  // A parent or child that is itself on the page comes as a reference to that row, not a second copy.
  if (want.parent) {
    members.push(Prisma.sql`'parents', (SELECT json_agg(CASE WHEN q.id IN (SELECT id FROM p) THEN json_build_object('ref', q.id) ELSE to_json(q) END)
                                          FROM workspaces q WHERE q.id IN (SELECT parent_id FROM p))`);
  }
  if (want.children) {
    members.push(Prisma.sql`'children', (SELECT json_agg(CASE WHEN c.id IN (SELECT id FROM p) THEN json_build_object('ref', c.id) ELSE to_json(c) END
                                                          ORDER BY c.created_at, c.id)
                                           FROM workspaces c WHERE c.parent_id IN (SELECT id FROM p) AND c.status <> 'REMOVED')`);
  }
  if (want.tokens) {
    // Named columns: the token hashes stay in the database.
    members.push(Prisma.sql`'tokens', (SELECT json_agg(json_build_object('id', t.id, 'workspace_id', t.workspace_id, 'prefix', t.prefix,
                                          'created_at', t.created_at, 'last_used_at', t.last_used_at, 'revoked_at', t.revoked_at)
                                          ORDER BY t.created_at DESC, t.id DESC)
                                         FROM workspace_auth_tokens t WHERE t.workspace_id IN (SELECT id FROM p) AND t.revoked_at IS NULL)`);
  }
  if (want.childCount) {
    members.push(Prisma.sql`'child_counts', (SELECT json_agg(json_build_array(c.parent_id, c.n)) FROM (
                                               SELECT parent_id, count(*) AS n FROM workspaces
                                                WHERE parent_id IN (SELECT id FROM p) AND status <> 'REMOVED'
                                                GROUP BY parent_id) c)`);
  }
  if (want.secretKeys) {
    members.push(Prisma.sql`'secret_keys', (SELECT json_agg(json_build_array(s.workspace_id, s.key) ORDER BY s.key)
                                              FROM workspace_secrets s WHERE s.workspace_id IN (SELECT id FROM p))`);
  }
  return members.length ? Prisma.sql`, ${Prisma.join(members, ', ')}` : Prisma.empty;
}

type JsonRow = Record<string, unknown>;

// JSON carries timestamps as ISO strings; the row mappers expect Dates, as pg hands them out. The
// timestamp columns are named here rather than guessed, so a new column is never converted by accident.
const WORKSPACE_TIMESTAMPS = [
  'last_heartbeat_at',
  'last_active_at',
  'provision_claimed_at',
  'provision_started_at',
  'restart_window_started_at',
  'status_changed_at',
  'removed_at',
  'created_at',
  'updated_at',
] as const;
const TOKEN_TIMESTAMPS = ['created_at', 'last_used_at', 'revoked_at'] as const;

function withDates(r: JsonRow, columns: readonly string[]): JsonRow {
  for (const k of columns) {
    const v = r[k];
    if (typeof v === 'string') r[k] = new Date(v);
  }
  return r;
}

const workspaceFromJson = (r: JsonRow) => workspaceFromRow(withDates(r, WORKSPACE_TIMESTAMPS));

interface PageJson {
  total_count?: number;
  event_cursor?: string;
  /** Whether a matching row lies on the far side of the cursor the page starts from. */
  beyond?: boolean;
  rows: Array<{ row: JsonRow; key: string | null }>;
  child_counts?: Array<[string, number]> | null;
  parents?: JsonRow[] | null;
  children?: JsonRow[] | null;
  tokens?: JsonRow[] | null;
  secret_keys?: Array<[string, string]> | null;
}

/** Hands each listed workspace its share of the page-wide relation sets; `onPage` holds every row read
 * for the page (the one beyond it too), by id, for the references. */
function attachRelations(items: ListedWorkspace[], page: PageJson, want: WorkspaceListRelations, onPage: Map<string, WorkspaceRecord>): void {
  const record = (r: JsonRow) => (typeof r.ref === 'string' ? onPage.get(r.ref)! : workspaceFromJson(r));
  const parents = want.parent ? new Map((page.parents ?? []).map(record).map((w) => [w.id, w])) : null;
  const children = want.children ? groupBy((page.children ?? []).map(record), (c) => c.parentId!) : null;
  const tokens = want.tokens ? groupBy((page.tokens ?? []).map((t) => tokenFromRow(withDates(t, TOKEN_TIMESTAMPS))), (t) => t.workspaceId) : null;
  const keys = want.secretKeys ? groupBy(page.secret_keys ?? [], ([workspaceId]) => workspaceId) : null;
  const childCounts = want.childCount ? new Map(page.child_counts ?? []) : null;
  for (const item of items) {
    const { id, parentId } = item.workspace;
    if (parents) item.parent = parentId ? (parents.get(parentId) ?? null) : null;
    if (children) item.children = children.get(id) ?? [];
    if (tokens) item.tokens = tokens.get(id) ?? [];
    if (keys) item.secretKeys = (keys.get(id) ?? []).map(([, key]) => key);
    if (childCounts) item.childCount = Number(childCounts.get(id) ?? 0);
  }
}

/**
 * Whether a matching row lies beyond the cursor a page starts from. Where the order has an index, as
 * the nearest such row in index order rather than EXISTS: EXISTS drops the ORDER BY, and the planner
 * may then scan the table from the wrong end (rows lie roughly in creation order; measured 16 ms
 * instead of 0.3 at 100,000 rows). LAST_HEARTBEAT_AT has no index, where EXISTS stops at the first hit.
 */
function anyBeyond(args: WorkspaceListArgs, filter: Prisma.Sql, from: Position): Prisma.Sql {
  const rows = Prisma.sql`FROM workspaces w WHERE ${filter} AND ${keysetPredicate(args.orderBy, from, args.backward ? 'atOrAfter' : 'atOrBefore')}`;
  if (args.orderBy.field === 'LAST_HEARTBEAT_AT') return Prisma.sql`EXISTS (SELECT 1 ${rows})`;
  return Prisma.sql`(SELECT true ${rows} ORDER BY ${orderBySql(args.orderBy, 'w', !args.backward)} LIMIT 1) IS NOT NULL`;
}

/**
 * The one statement that reads a page (and what else was asked for), or null when nothing can match
 * (a non-UUID parent). BadUserInputError for a malformed or foreign cursor, or a bad search. Exported
 * for the plan checks of test/integration/workspaces-list-plans.test.ts.
 */
export function workspacePageStatement(args: WorkspaceListArgs, want: WorkspaceListRelations, extras: WorkspaceListExtras): Prisma.Sql | null {
  const order = args.orderBy;
  const after = args.after === null ? null : decodeCursor(args.after, order, args, 'after');
  const before = args.before === null ? null : decodeCursor(args.before, order, args, 'before');
  const filter = listFilter(args);
  // An unknown (non-UUID) parent has no children: an empty connection, never an error of its own.
  if (args.parentId !== null && !isUuid(args.parentId)) return null;
  const window = Prisma.sql`${after ? Prisma.sql`AND ${keysetPredicate(order, after, 'after')}` : Prisma.empty}
                            ${before ? Prisma.sql`AND ${keysetPredicate(order, before, 'before')}` : Prisma.empty}`;
  // The cursor the page starts from (after going forward, before going backward): is anything beyond it?
  const from = args.backward ? before : after;
  const beyond = from ? Prisma.sql`, 'beyond', ${anyBeyond(args, filter, from)}` : Prisma.empty;
  const totalCount = extras.totalCount ? Prisma.sql`, 'total_count', (SELECT count(*) FROM workspaces w WHERE ${filter})` : Prisma.empty;
  const eventCursor = extras.eventCursor ? Prisma.sql`, 'event_cursor', (SELECT coalesce(max(id), 0)::text FROM workspace_events)` : Prisma.empty;
  // One statement, so one snapshot: the page, its count and the event cursor agree (API.md: subscribe
  // after that cursor and nothing is missed). Reading backwards, the last N are read in the reverse
  // order (and turned round by the caller). The page holds one row more than asked, to tell whether
  // more follow.
  return Prisma.sql`
    /* listWorkspaces */
    WITH p AS (
      SELECT w.* FROM workspaces w
       WHERE ${filter} ${window}
       ORDER BY ${orderBySql(order, 'w', args.backward)}
       LIMIT ${args.size === 0 ? 0 : args.size + 1})
    SELECT json_build_object(
      'rows', coalesce((SELECT json_agg(json_build_object('row', to_json(p), 'key', ${cursorKeySql(order)})
                 ORDER BY ${orderBySql(order, 'p', args.backward)}) FROM p), '[]')
      ${totalCount} ${eventCursor} ${beyond}
      ${relationMembers(want)}) AS page`;
}

export async function readWorkspacePage(
  db: Database,
  args: WorkspaceListArgs,
  want: WorkspaceListRelations = {},
  extras: WorkspaceListExtras = { totalCount: true },
): Promise<WorkspaceListPage> {
  const statement = workspacePageStatement(args, want, extras);
  if (!statement) {
    return { workspaces: [], hasNextPage: false, hasPreviousPage: false, totalCount: 0, ...(extras.eventCursor ? { eventCursor: await readEventCursor(db) } : {}) };
  }
  // A search's best plan depends on how common the term is (trigram index for a rare one, the order's
  // index for a common one): planned for its value every time, never with a blind generic plan.
  const [result] = await db.query<{ page: PageJson }>(statement, { named: args.search === null });
  const page = result!.page;
  const cursor = cursorEncoder(args.orderBy, args);
  const read = page.rows.map((r): ListedWorkspace => ({ workspace: workspaceFromJson(r.row), cursor: cursor({ key: r.key, id: r.row.id as string }) }));
  const shown = read.slice(0, args.size);
  if (args.backward) shown.reverse();
  attachRelations(shown, page, want, new Map(read.map((l) => [l.workspace.id, l.workspace])));
  const more = page.rows.length > args.size;
  return {
    workspaces: shown,
    hasNextPage: args.backward ? page.beyond === true : more,
    hasPreviousPage: args.backward ? more : page.beyond === true,
    ...(page.total_count === undefined ? {} : { totalCount: Number(page.total_count) }),
    ...(page.event_cursor === undefined ? {} : { eventCursor: page.event_cursor }),
  };
}
