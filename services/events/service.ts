// The event log's read side and its retention. Writes happen through appendEvents (log.ts) inside the
// transaction of the change they describe.
import type { ServiceDeps } from '../deps.js';
import type { EventRecord } from './log.js';
import {
  readEventCursor,
  readEventPage,
  readEventPagesFor,
  readEventsAfter,
  readEventsByIds,
  type EventPage,
  type EventPageArgs,
} from './queries.js';

export type { EventPage, EventPageArgs };

export interface EventService {
  /** Newest first; `after` = older than that id. */
  page(args: EventPageArgs): Promise<EventPage>;
  /** One newest-first page per workspace, in the order of `workspaceIds` (DataLoader batch). */
  pagesFor(workspaceIds: readonly string[], first: number, after: bigint | null): Promise<EventPage[]>;
  /** Oldest first, ids above `afterId` (subscription catch-up). */
  listAfter(afterId: bigint, opts: { workspaceId?: string | null; limit: number }): Promise<EventRecord[]>;
  getEventsByIds(ids: readonly bigint[]): Promise<(EventRecord | null)[]>;
  /** Id of the newest committed event; "0" when the log is empty. */
  cursor(): Promise<string>;
  /** The oldest id still kept, or null on an empty log (EVENTS_EXPIRED checks compare against it). */
  oldestRetainedId(): Promise<bigint | null>;
  /** Deletes events older than EVENT_RETENTION_DAYS; returns how many. Scheduled by the reconcilers. */
  deleteExpired(): Promise<number>;
}

export function createEventService(deps: ServiceDeps): EventService {
  const { db, config } = deps;
  return {
    page: (args) => readEventPage(db, args),
    pagesFor: (ids, first, after) => readEventPagesFor(db, ids, first, after),
    listAfter: (afterId, opts) => readEventsAfter(db, afterId, opts),
    getEventsByIds: (ids) => readEventsByIds(db, ids),
    cursor: () => readEventCursor(db),
    async oldestRetainedId() {
      const rows = await db.prisma.$queryRaw<{ id: string | null }[]>`/* oldestRetainedEventId */ SELECT min(id)::text AS id FROM workspace_events`;
      return rows[0]?.id ? BigInt(rows[0].id) : null;
    },
    async deleteExpired() {
      // Seconds, so fractional EVENT_RETENTION_DAYS (tests use small values) work too.
      const seconds = config.eventRetentionDays * 86_400;
      return db.prisma.$executeRaw`
        /* deleteExpiredEvents */
        DELETE FROM workspace_events WHERE created_at < now() - make_interval(secs => ${seconds})`;
    },
  };
}
