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
import { BadUserInputError } from '../errors.js';
import { groupBy } from '../group-by.js';
import { tokenFromRow, type TokenRecord } from '../tokens/records.js';
import { isUuid, workspaceFromRow, type WorkspaceRecord, type WorkspaceStatus } from './record.js';

export interface WorkspaceListArgs {
  first: number;
  after: string | null;
  status: readonly WorkspaceStatus[] | null;
  parentId: string | null;
  includeRemoved: boolean;
}

/** Which relations of the listed workspaces to read along with the page. */
export interface WorkspaceListRelations {
  parent?: boolean;
  children?: boolean;
  tokens?: boolean;
  secretKeys?: boolean;
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
}

export interface WorkspaceListPage {
  workspaces: ListedWorkspace[];
  hasNextPage: boolean;
  totalCount: number;
}

// The cursor carries created_at in microseconds (a JS Date would drop them) and the id as tiebreak.
function encodeCursor(createdUs: string, id: string): string {
  return Buffer.from(`${createdUs}:${id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { createdUs: string; id: string } {
  const text = /^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const m = /^(-?[0-9]{1,19}):([0-9a-f-]{36})$/.exec(text);
  if (!m || !isUuid(m[2])) throw new BadUserInputError('malformed cursor');
  return { createdUs: m[1]!, id: m[2]! };
}

function listFilter(args: WorkspaceListArgs): Prisma.Sql {
  // An explicit status filter wins over includeRemoved (API.md): listing REMOVED returns removed rows.
  const status = args.status
    ? Prisma.sql`w.status = ANY(${[...args.status]}::workspace_status[])`
    : args.includeRemoved
      ? Prisma.sql`true`
      : Prisma.sql`w.status <> 'REMOVED'`;
  const parent = args.parentId === null ? Prisma.empty : Prisma.sql`AND w.parent_id = ${args.parentId}::uuid`;
  return Prisma.sql`${status} ${parent}`;
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
  total_count: number;
  rows: Array<{ row: JsonRow; created_us: string }>;
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
  for (const item of items) {
    const { id, parentId } = item.workspace;
    if (parents) item.parent = parentId ? (parents.get(parentId) ?? null) : null;
    if (children) item.children = children.get(id) ?? [];
    if (tokens) item.tokens = tokens.get(id) ?? [];
    if (keys) item.secretKeys = (keys.get(id) ?? []).map(([, key]) => key);
  }
}

export async function readWorkspacePage(db: Database, args: WorkspaceListArgs, want: WorkspaceListRelations = {}): Promise<WorkspaceListPage> {
  const after = args.after === null ? null : decodeCursor(args.after);
  // An unknown (non-UUID) parent has no children: an empty connection, never an error of its own.
  if (args.parentId !== null && !isUuid(args.parentId)) return { workspaces: [], hasNextPage: false, totalCount: 0 };
  const filter = listFilter(args);
  const keyset = after
    ? Prisma.sql`AND (w.created_at, w.id) > (timestamptz 'epoch' + (${after.createdUs} || ' microseconds')::interval, ${after.id}::uuid)`
    : Prisma.empty;
  // The count and the page come from one snapshot in one round trip; the page holds one row more than
  // asked, to tell whether another page follows.
  const [result] = await db.query<{ page: PageJson }>`
    /* listWorkspaces */
    WITH p AS (
      SELECT w.* FROM workspaces w
       WHERE ${filter} ${keyset}
       ORDER BY w.created_at, w.id
       LIMIT ${args.first === 0 ? 0 : args.first + 1})
    SELECT json_build_object(
      'total_count', (SELECT count(*) FROM workspaces w WHERE ${filter}),
      'rows', coalesce((SELECT json_agg(json_build_object(
                 'row', to_json(p),
                 'created_us', (extract(epoch FROM p.created_at) * 1000000)::bigint::text)
                 ORDER BY p.created_at, p.id) FROM p), '[]')
      ${relationMembers(want)}) AS page`;
  const page = result!.page;
  const read = page.rows.map((r): ListedWorkspace => ({ workspace: workspaceFromJson(r.row), cursor: encodeCursor(r.created_us, r.row.id as string) }));
  const workspaces = read.slice(0, args.first);
  attachRelations(workspaces, page, want, new Map(read.map((l) => [l.workspace.id, l.workspace])));
  return { workspaces, hasNextPage: page.rows.length > args.first, totalCount: page.total_count };
}
