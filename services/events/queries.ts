// Reads of the event log: newest-first keyset pages (the id is the cursor), batched per workspace for
// DataLoaders, and the log's head for eventCursor.
import { Prisma } from '../db/client.js';
import type { Database } from '../db/client.js';
import { eventFromRow, type EventRecord } from './log.js';

export interface EventPage {
  events: EventRecord[];
  hasNextPage: boolean;
}

export interface EventPageArgs {
  /** null: every workspace's events. */
  workspaceId: string | null;
  first: number;
  /** Only events older than this id. */
  after: bigint | null;
}

function olderThan(after: bigint | null): Prisma.Sql {
  return after === null ? Prisma.empty : Prisma.sql`AND e.id < ${after}`;
}

export async function readEventPage(db: Database, args: EventPageArgs): Promise<EventPage> {
  if (args.first === 0) return { events: [], hasNextPage: false };
  const scope = args.workspaceId === null ? Prisma.empty : Prisma.sql`AND e.workspace_id = ${args.workspaceId}::uuid`;
  const rows = await db.prisma.$queryRaw<Record<string, unknown>[]>`
    /* readEventPage */
    SELECT e.* FROM workspace_events e
     WHERE true ${scope} ${olderThan(args.after)}
     ORDER BY e.id DESC
     LIMIT ${args.first + 1}`;
  const events = rows.map(eventFromRow);
  return { events: events.slice(0, args.first), hasNextPage: events.length > args.first };
}

/** One page per workspace id (same first/after for all: a DataLoader batches one query path). */
export async function readEventPagesFor(db: Database, ids: readonly string[], first: number, after: bigint | null): Promise<EventPage[]> {
  if (ids.length === 0 || first === 0) return ids.map(() => ({ events: [], hasNextPage: false }));
  const rows = await db.prisma.$queryRaw<Record<string, unknown>[]>`
    /* readEventPagesForWorkspaces */
    SELECT page.* FROM unnest(${[...ids]}::uuid[]) AS k(workspace_id)
    CROSS JOIN LATERAL (
      SELECT e.* FROM workspace_events e
       WHERE e.workspace_id = k.workspace_id ${olderThan(after)}
       ORDER BY e.id DESC
       LIMIT ${first + 1}
    ) page`;
  const byWorkspace = new Map<string, EventRecord[]>();
  for (const r of rows.map(eventFromRow)) {
    const list = byWorkspace.get(r.workspaceId) ?? [];
    list.push(r);
    byWorkspace.set(r.workspaceId, list);
  }
  return ids.map((id) => {
    const list = (byWorkspace.get(id) ?? []).sort((a, b) => (a.id < b.id ? 1 : -1));
    return { events: list.slice(0, first), hasNextPage: list.length > first };
  });
}

/** Oldest first after an id: the catch-up read of a resuming subscriber. */
export async function readEventsAfter(db: Database, afterId: bigint, opts: { workspaceId?: string | null; limit: number }): Promise<EventRecord[]> {
  const scope = opts.workspaceId ? Prisma.sql`AND e.workspace_id = ${opts.workspaceId}::uuid` : Prisma.empty;
  const rows = await db.prisma.$queryRaw<Record<string, unknown>[]>`
    /* readEventsAfter */
    SELECT e.* FROM workspace_events e WHERE e.id > ${afterId} ${scope} ORDER BY e.id LIMIT ${opts.limit}`;
  return rows.map(eventFromRow);
}

export async function readEventsByIds(db: Database, ids: readonly bigint[]): Promise<(EventRecord | null)[]> {
  if (ids.length === 0) return [];
  const rows = await db.prisma.$queryRaw<Record<string, unknown>[]>`
    /* readEventsByIds */
    SELECT e.* FROM workspace_events e WHERE e.id = ANY(${ids.map(String)}::bigint[])`;
  const byId = new Map(rows.map(eventFromRow).map((e) => [e.id, e]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** The newest committed event id, "0" on an empty log. */
export async function readEventCursor(db: Database): Promise<string> {
  const rows = await db.prisma.$queryRaw<{ id: string | null }[]>`
    /* readEventCursor */
    SELECT max(id)::text AS id FROM workspace_events`;
  return rows[0]?.id ?? '0';
}
