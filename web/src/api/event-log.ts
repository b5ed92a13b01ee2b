// The status events this sign-in has applied: the newest id (where a resumed subscription starts) and
// what the recent ones decided, so that a read from an older snapshot landing after them in the
// normalized cache cannot undo them (the read's eventCursor says how old it is).
import { compareEventIds } from '../lib/ids.ts';
import type { WorkspaceAction, WorkspaceStatus } from '../generated/graphql.ts';

export interface DecidedStatus {
  __typename: 'Workspace';
  id: string;
  status: WorkspaceStatus;
  allowedActions: WorkspaceAction[];
}

const KEEP = 2000;

export interface EventLog {
  /** The newest event id applied (or the cursor the subscription started after); null before any. */
  newest(): string | null;
  /** Where the next subscription starts: set from a cursor read before the state. */
  startAfter(cursor: string): void;
  /** Records an applied event; false when it is a replay of one already applied. */
  record(eventId: string, decided: DecidedStatus): boolean;
  /** What the events after `cursor` decided, oldest first (only `workspaceId`'s when given). */
  since(cursor: string, workspaceId?: string): DecidedStatus[];
}

export function createEventLog(): EventLog {
  let newest: string | null = null;
  const recent: Array<{ eventId: string; decided: DecidedStatus }> = [];
  return {
    newest: () => newest,
    startAfter(cursor) {
      newest = cursor;
      recent.length = 0;
    },
    record(eventId, decided) {
      if (newest !== null && compareEventIds(eventId, newest) <= 0) return false;
      newest = eventId;
      recent.push({ eventId, decided });
      if (recent.length > KEEP) recent.splice(0, recent.length - KEEP);
      return true;
    },
    since(cursor, workspaceId) {
      const out: DecidedStatus[] = [];
      for (const r of recent) {
        if (compareEventIds(r.eventId, cursor) > 0 && (!workspaceId || r.decided.id === workspaceId)) out.push(r.decided);
      }
      return out;
    },
  };
}
