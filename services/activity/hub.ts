// workspaceActivity (API.md "Frontends"): after a committed heartbeat that changed what the agent
// reports, deliver the workspace, on every instance, at most once per workspace per
// ACTIVITY_PUSH_INTERVAL_MS, the newest state winning. No event row is written: a heartbeat is the
// hottest write there is, and activity is not history.
//
// How it travels: the instance that committed the heartbeat marks the workspace here at once and, on
// a PostgreSQL server, adds it to the next coalesced pg_notify (one notification for every workspace
// changed in the last FLUSH_MS, ids only, tagged with the sender so it ignores its own echo). Embedded
// PGlite has one process and no LISTEN/NOTIFY, so marking is all. Each instance then throttles per
// workspace itself: a workspace is delivered when marked, unless it was delivered less than one
// interval ago, in which case it waits for the interval's end; what is delivered is the row read at
// delivery time, so it is always the newest committed state. Nothing is read, and nothing is kept,
// while an instance has no activity subscriber.
import type { Viewer } from '../auth/viewer.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../log.js';
import type { TokenBound } from '../events/subscriptions.js';
import { readWorkspacesByIds } from '../workspaces/queries.js';
import { isUuid, type WorkspaceRecord } from '../workspaces/record.js';
import { ActivitySubscriber, type ActivityDelivery, type ActivityFilter } from './subscriber.js';

export type { ActivityDelivery };

export const ACTIVITY_CHANNEL = 'workspace_activity';
/** Longest wait of a changed workspace before its notification goes out. */
const FLUSH_MS = 200;
/** pg_notify payloads are limited to 8,000 bytes: 37 bytes per id plus the sender tag. */
const IDS_PER_NOTIFY = 200;
const READ_CHUNK = 500;

export interface ActivityHubOptions {
  db: Database;
  log: Logger;
  instanceId: string;
  intervalMs: number;
  /** Ends a workspace token's subscription when the token stops authenticating. */
  bindToToken: (viewer: Extract<Viewer, { kind: 'WORKSPACE' }>, target: TokenBound) => Promise<() => void>;
}

export interface ActivityHub {
  /** A heartbeat that changed activity was committed here. */
  changed(workspaceId: string): void;
  /** A NOTIFY payload from the activity channel (another instance's heartbeats). */
  received(payload: string): void;
  /** A subscription; the caller has checked the viewer may use these filters. */
  open(viewer: Viewer, filter: ActivityFilter): Promise<AsyncIterableIterator<ActivityDelivery>>;
  subscriberCount(): number;
  stop(): void;
}

export function createActivityHub(opts: ActivityHubOptions): ActivityHub {
  const { db, log, intervalMs } = opts;
  const notify = !db.embedded;
  const tick = Math.max(1, Math.min(25, intervalMs));
  const subscribers = new Set<ActivitySubscriber>();
  /** Workspaces to deliver, and when (ms). */
  const pending = new Map<string, number>();
  /** When each workspace was last delivered; entries older than one interval are pruned. */
  const lastDelivered = new Map<string, number>();
  const outgoing = new Set<string>();
  let deliverTimer: NodeJS.Timeout | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  let sequence = 0;

  function mark(workspaceId: string): void {
    if (subscribers.size === 0 || pending.has(workspaceId)) return;
    const last = lastDelivered.get(workspaceId);
    pending.set(workspaceId, last === undefined ? 0 : last + intervalMs);
    deliverTimer ??= setTimeout(deliverDue, 0);
  }

  function deliverDue(): void {
    deliverTimer = undefined;
    if (stopped) return;
    const now = Date.now();
    const due: string[] = [];
    for (const [id, at] of pending) if (at <= now) due.push(id);
    for (const id of due) {
      pending.delete(id);
      lastDelivered.set(id, now);
    }
    for (const [id, at] of lastDelivered) if (at + intervalMs <= now && !pending.has(id)) lastDelivered.delete(id);
    if (pending.size > 0) deliverTimer = setTimeout(deliverDue, tick);
    if (due.length > 0) void deliver(due);
  }

  async function deliver(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += READ_CHUNK) {
      let rows: (WorkspaceRecord | null)[];
      try {
        rows = await readWorkspacesByIds(db, ids.slice(i, i + READ_CHUNK));
      } catch (err) {
        // Live only and best effort: the next heartbeat that changes something delivers again.
        log.warn({ err }, 'workspace activity read failed');
        continue;
      }
      const batch = { memo: new Map<string, unknown>() };
      const seq = sequence++;
      for (const w of rows) {
        if (!w || w.status === 'REMOVED') continue;
        const delivery: ActivityDelivery = { workspace: w, batch, shareKey: `activity:${seq}:${w.id}` };
        for (const s of subscribers) if (s.matches(w)) s.push(delivery);
      }
    }
  }

  function flush(): void {
    flushTimer = undefined;
    if (stopped || outgoing.size === 0) return;
    const ids = [...outgoing];
    outgoing.clear();
    for (let i = 0; i < ids.length; i += IDS_PER_NOTIFY) {
      const payload = `${opts.instanceId}|${ids.slice(i, i + IDS_PER_NOTIFY).join(',')}`;
      db.query`/* notifyActivity */ SELECT pg_notify(${ACTIVITY_CHANNEL}, ${payload})`.catch((err: unknown) =>
        log.warn({ err }, 'workspace activity notification failed'),
      );
    }
  }

  return {
    changed(raw) {
      if (stopped) return;
      const workspaceId = raw.toLowerCase();
      mark(workspaceId);
      if (!notify) return;
      outgoing.add(workspaceId);
      flushTimer ??= setTimeout(flush, Math.min(FLUSH_MS, intervalMs));
    },

    received(payload) {
      const bar = payload.indexOf('|');
      if (bar < 0 || payload.slice(0, bar) === opts.instanceId) return;
      for (const id of payload.slice(bar + 1).split(',')) if (isUuid(id)) mark(id.toLowerCase());
    },

    async open(viewer, filter) {
      // A workspace token sees its own workspace only, with or without workspaceId.
      const own = viewer.kind === 'WORKSPACE' ? { ...filter, workspaceId: viewer.workspaceId } : filter;
      const normalised: ActivityFilter = { workspaceId: own.workspaceId?.toLowerCase() ?? null, parentId: own.parentId?.toLowerCase() ?? null };
      let unbind = () => {};
      const sub = new ActivitySubscriber(normalised, (s) => {
        subscribers.delete(s);
        unbind();
      });
      subscribers.add(sub);
      if (viewer.kind === 'WORKSPACE') {
        const release = await opts.bindToToken(viewer, sub);
        if (sub.isStopped) release();
        else unbind = release;
      }
      return sub;
    },

    subscriberCount: () => subscribers.size,

    stop() {
      stopped = true;
      clearTimeout(deliverTimer);
      clearTimeout(flushTimer);
      for (const s of [...subscribers]) void s.return();
    },
  };
}
