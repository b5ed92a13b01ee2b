// The reads behind live delivery. Ids follow commit order (log.ts), so "every row with id in
// (after, upTo]" is a complete, gap-free slice of the log once upTo has been seen committed.
import { Prisma, type Database } from '../db/client.js';
import { isUuid } from '../workspaces/record.js';
import { eventFromRow, type EventRecord } from './log.js';
import type { WorkspaceStatus } from '../workspaces/record.js';

export interface LogSliceFilter {
  /** Only this workspace's events; null = every workspace. */
  workspaceId: string | null;
  /** Only status events (status not null). */
  statusOnly: boolean;
  /** Only events of this workspace's direct children (the parent when the event was written). */
  parentId?: string | null;
  /** Only status events whose new status is one of these. */
  statuses?: readonly WorkspaceStatus[] | null;
}

/** The same filter, on an event already read (live delivery): replay and live must agree. */
export function matchesFilter(e: EventRecord, f: LogSliceFilter): boolean {
  if (f.statusOnly && e.status === null) return false;
  if (f.statuses && (e.status === null || !f.statuses.includes(e.status))) return false;
  if (f.parentId != null && e.parentId !== f.parentId) return false;
  return true;
}

/** Oldest first: the rows with afterId < id <= upTo (no upper bound when upTo is null). */
export async function readLogSlice(
  db: Database,
  afterId: bigint,
  upTo: bigint | null,
  limit: number,
  filter: LogSliceFilter = { workspaceId: null, statusOnly: false },
): Promise<EventRecord[]> {
  // A non-UUID workspace or parent id is an unknown workspace: it has no events, and must not reach a
  // ::uuid cast.
  if (filter.workspaceId !== null && !isUuid(filter.workspaceId)) return [];
  if (filter.parentId != null && !isUuid(filter.parentId)) return [];
  const upper = upTo === null ? Prisma.empty : Prisma.sql`AND e.id <= ${upTo}`;
  const scope = filter.workspaceId === null ? Prisma.empty : Prisma.sql`AND e.workspace_id = ${filter.workspaceId}::uuid`;
  const parent = filter.parentId == null ? Prisma.empty : Prisma.sql`AND e.parent_id = ${filter.parentId}::uuid`;
  const status = filter.statusOnly ? Prisma.sql`AND e.status IS NOT NULL` : Prisma.empty;
  const statuses = filter.statuses ? Prisma.sql`AND e.status = ANY(${[...filter.statuses]}::workspace_status[])` : Prisma.empty;
  const rows = await db.prisma.$queryRaw<Record<string, unknown>[]>`
    /* readLogSlice */
    SELECT e.* FROM workspace_events e
     WHERE e.id > ${afterId} ${upper} ${scope} ${parent} ${status} ${statuses}
     ORDER BY e.id
     LIMIT ${limit}`;
  return rows.map(eventFromRow);
}

/** The newest committed id (0 on an empty log): the point a subscription without afterEventId starts after. */
export async function readLogHead(db: Database): Promise<bigint> {
  const rows = await db.prisma.$queryRaw<{ id: string | null }[]>`
    /* readLogHead */
    SELECT max(id)::text AS id FROM workspace_events`;
  return BigInt(rows[0]?.id ?? '0');
}

export interface LogBounds {
  /** The oldest id retention has left, null on an empty log. */
  oldest: bigint | null;
  /** The highest id the sequence has handed out (0 before the first event). */
  issued: bigint;
}

export async function readLogBounds(db: Database): Promise<LogBounds> {
  // workspace_events_id_seq is the bigserial's sequence (migration init).
  const rows = await db.prisma.$queryRaw<{ oldest: string | null; issued: string }[]>`
    /* readLogBounds */
    SELECT (SELECT min(id) FROM workspace_events)::text AS oldest,
           (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM workspace_events_id_seq)::text AS issued`;
  const r = rows[0]!;
  return { oldest: r.oldest === null ? null : BigInt(r.oldest), issued: BigInt(r.issued) };
}

export interface TokenLiveness {
  live: Set<string>;
  /** The log head in the same snapshot: a token found dead was revoked by an event at or below it. */
  head: bigint;
}

/** Which of these workspace tokens still authenticate (unrevoked, workspace not REMOVED). */
export async function readLiveWorkspaceTokens(db: Database, tokenIds: readonly string[]): Promise<TokenLiveness> {
  const ids = tokenIds.filter(isUuid);
  // One statement, one snapshot: the liveness and the head agree.
  const rows = await db.prisma.$queryRaw<{ id: string | null; head: string | null }[]>`
    /* readLiveWorkspaceTokens */
    SELECT t.id::text AS id, (SELECT max(id) FROM workspace_events)::text AS head
      FROM (SELECT 1) one
      LEFT JOIN workspace_auth_tokens t
        ON t.id = ANY(${ids}::uuid[]) AND t.revoked_at IS NULL
       AND EXISTS (SELECT 1 FROM workspaces w WHERE w.id = t.workspace_id AND w.status <> 'REMOVED')`;
  const live = new Set<string>();
  for (const r of rows) if (r.id) live.add(r.id);
  return { live, head: BigInt(rows[0]?.head ?? '0') };
}
