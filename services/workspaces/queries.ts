// Reads of workspaces: by ids (DataLoader batches), children, and the keyset-paginated list.
import { Prisma, type Database } from '../db/client.js';
import { BadUserInputError } from '../errors.js';
import { isUuid, workspaceFromRow, type WorkspaceRecord, type WorkspaceStatus } from './record.js';

export async function readWorkspacesByIds(db: Database, ids: readonly string[]): Promise<(WorkspaceRecord | null)[]> {
  const uuids = ids.filter(isUuid);
  if (uuids.length === 0) return ids.map(() => null);
  const rows = await db.query<Record<string, unknown>>`
    /* readWorkspacesByIds */
    SELECT * FROM workspaces WHERE id = ANY(${uuids}::uuid[])`;
  const byId = new Map(rows.map(workspaceFromRow).map((w) => [w.id, w]));
  return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
}

/** Direct children that are not REMOVED, oldest first, for all these parents at once. */
export async function readChildren(db: Database, parentIds: readonly string[]): Promise<WorkspaceRecord[]> {
  const uuids = parentIds.filter(isUuid);
  if (uuids.length === 0) return [];
  const rows = await db.query<Record<string, unknown>>`
    /* readChildren */
    SELECT * FROM workspaces WHERE parent_id = ANY(${uuids}::uuid[]) AND status <> 'REMOVED'
     ORDER BY created_at, id`;
  return rows.map(workspaceFromRow);
}

export interface WorkspaceListArgs {
  first: number;
  after: string | null;
  status: readonly WorkspaceStatus[] | null;
  parentId: string | null;
  includeRemoved: boolean;
}

export interface WorkspaceListPage {
  workspaces: Array<{ workspace: WorkspaceRecord; cursor: string }>;
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

export async function readWorkspacePage(db: Database, args: WorkspaceListArgs): Promise<WorkspaceListPage> {
  const after = args.after === null ? null : decodeCursor(args.after);
  // An unknown (non-UUID) parent has no children: an empty connection, never an error of its own.
  if (args.parentId !== null && !isUuid(args.parentId)) return { workspaces: [], hasNextPage: false, totalCount: 0 };
  const filter = listFilter(args);
  const keyset = after
    ? Prisma.sql`AND (w.created_at, w.id) > (timestamptz 'epoch' + (${after.createdUs} || ' microseconds')::interval, ${after.id}::uuid)`
    : Prisma.empty;
  // One statement: the count and the page come from one snapshot in one round trip. The LEFT JOIN
  // keeps the count's row when the page is empty (first: 0, or past the end).
  const joined = await db.query<Record<string, unknown>>`
    /* listWorkspaces */
    SELECT c.total_count, p.*
      FROM (SELECT count(*)::int AS total_count FROM workspaces w WHERE ${filter}) c
      LEFT JOIN LATERAL (
        SELECT w.*, (extract(epoch FROM w.created_at) * 1000000)::bigint::text AS created_us
          FROM workspaces w
         WHERE ${filter} ${keyset}
         ORDER BY w.created_at, w.id
         LIMIT ${args.first === 0 ? 0 : args.first + 1}) p ON true
     ORDER BY p.created_at, p.id`;
  const totalCount = (joined[0]?.total_count as number | undefined) ?? 0;
  const rows = joined.filter((r) => r.id !== null);
  const page = rows.slice(0, args.first).map((r) => ({
    workspace: workspaceFromRow(r),
    cursor: encodeCursor(r.created_us as string, r.id as string),
  }));
  return { workspaces: page, hasNextPage: rows.length > args.first, totalCount };
}
