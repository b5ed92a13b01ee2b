// Live subscriptions to the event log (API.md, Subscription). One fan-out per process reads each batch
// of committed rows once; every subscription is a Subscriber with a bounded queue over it. This file
// decides where a subscription starts (afterEventId, EVENTS_EXPIRED), what a viewer may see, when a
// workspace token's subscriptions end, and when a subscriber that stays behind is evicted.
import type { Viewer } from '../auth/viewer.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../log.js';
import type { WorkspaceStatus } from '../workspaces/record.js';
import { EventFanout, type FanoutBatch } from './fanout.js';
import { readLiveWorkspaceTokens, readLogBounds, readLogHead } from './fanout-queries.js';
import { Subscriber, SubscriptionError, type Delivery } from './subscriptions-subscriber.js';

export { SubscriptionError, type Delivery };

export interface SubscribeRequest {
  viewer: Viewer;
  /** null = every workspace the viewer may see (a workspace token: only its own). */
  workspaceId: string | null;
  /** Decimal event id; null = only what is committed after the subscription is established. */
  afterEventId: string | null;
  /** workspaceStatusChanged: only events with a status. */
  statusOnly: boolean;
  /** Only events of this workspace's direct children. */
  parentId?: string | null;
  /** Only status events whose new status is one of these. */
  statuses?: readonly WorkspaceStatus[] | null;
  /** The transport's way to close a subscriber evicted for staying behind (e.g. a WebSocket close code). */
  onEvict?: () => void;
}

export interface SubscriptionLimits {
  /** Events queued per subscriber before it falls behind and is fed from the log instead. */
  queueLimit: number;
  /** A subscriber behind for longer than this is ended with SLOW_CONSUMER. */
  maxBehindMs: number;
  /** How often workspace tokens of open subscriptions are re-checked even without events. */
  tokenRecheckMs: number;
  /** Safety poll of the log in case a wake-up was lost. */
  pollIntervalMs: number;
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = {
  queueLimit: 256,
  maxBehindMs: 60_000,
  tokenRecheckMs: 15_000,
  pollIntervalMs: 2_000,
};

/** Anything that must end once a workspace token stops authenticating (a subscription of that token). */
export interface TokenBound {
  /** Deliver what was committed up to `id` (where that applies), then end. */
  endAfterId(id: bigint): void;
}

export interface SubscriptionService {
  /** Resolves to the subscription's stream; throws SubscriptionError for a bad or expired afterEventId. */
  open(req: SubscribeRequest): Promise<AsyncIterableIterator<Delivery>>;
  /** Something was committed (in this process, or announced by NOTIFY / a reconnecting listener). */
  wake(maxId?: bigint): void;
  /** Subscribers registered with the fan-out (a disconnect must bring it back down). */
  listenerCount(): number;
  /**
   * Ends `target` once this workspace token is revoked or its workspace REMOVED, like the token's own
   * event subscriptions (checked now, after every batch touching the workspace, and periodically).
   * Returns the unregistration.
   */
  bindToToken(viewer: Extract<Viewer, { kind: 'WORKSPACE' }>, target: TokenBound): Promise<() => void>;
  readonly fanout: EventFanout;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const MAX_EVENT_ID = 9_223_372_036_854_775_807n;

// Transports register, per GraphQL context, how to close the connection of a subscriber evicted for
// staying behind (a WebSocket close code); the resolver passes it along as onEvict.
const evictors = new WeakMap<object, () => void>();
export function registerEvictor(context: object, evict: () => void): void {
  evictors.set(context, evict);
}
export function evictorFor(context: object): (() => void) | undefined {
  return evictors.get(context);
}

/** afterEventId: the decimal id of an event (API.md: a malformed one is BAD_USER_INPUT). */
export function parseAfterEventId(value: string): bigint {
  if (!/^(0|[1-9][0-9]{0,18})$/.test(value) || BigInt(value) > MAX_EVENT_ID) {
    throw new SubscriptionError('BAD_USER_INPUT', 'malformed afterEventId: expected an event id');
  }
  return BigInt(value);
}

export function createSubscriptionService(
  deps: { db: Database; log: Logger },
  limits: Partial<SubscriptionLimits> = {},
): SubscriptionService {
  const { db, log } = deps;
  const lim: SubscriptionLimits = { ...DEFAULT_SUBSCRIPTION_LIMITS, ...limits };
  const fanout = new EventFanout({ db, log, pollIntervalMs: lim.pollIntervalMs });
  const subscribers = new Set<Subscriber>();
  const byToken = new Map<string, Set<TokenBound>>();
  const tokenOf = new WeakMap<TokenBound, { tokenId: string; workspaceId: string }>();
  const onEvict = new WeakMap<Subscriber, () => void>();
  let started: Promise<void> | null = null;
  let timers: NodeJS.Timeout[] = [];

  function track(target: TokenBound, tokenId: string, workspaceId: string): void {
    tokenOf.set(target, { tokenId, workspaceId });
    let set = byToken.get(tokenId);
    if (!set) byToken.set(tokenId, (set = new Set()));
    set.add(target);
  }

  function untrack(target: TokenBound): void {
    const t = tokenOf.get(target);
    if (!t) return;
    const set = byToken.get(t.tokenId);
    set?.delete(target);
    if (set?.size === 0) byToken.delete(t.tokenId);
  }

  function forget(s: Subscriber, unregister: () => void): void {
    unregister();
    subscribers.delete(s);
    untrack(s);
  }

  /**
   * A workspace token's subscriptions end once it no longer authenticates (revoked, or its workspace
   * REMOVED): they still deliver every event up to the head of the snapshot that found it dead — which
   * includes the revoking or REMOVED event, written in the same transaction — and then complete.
   */
  async function recheckTokens(tokenIds: string[]): Promise<void> {
    if (tokenIds.length === 0) return;
    const { live, head } = await readLiveWorkspaceTokens(db, tokenIds);
    for (const id of tokenIds) {
      if (live.has(id)) continue;
      for (const s of byToken.get(id) ?? []) s.endAfterId(head);
    }
  }

  function recheckAfterBatch(batch: FanoutBatch): void {
    if (byToken.size === 0) return;
    const touched = new Set(batch.events.map((e) => e.workspaceId));
    const ids: string[] = [];
    for (const [tokenId, subs] of byToken) {
      const first = subs.values().next().value as TokenBound | undefined;
      const t = first && tokenOf.get(first);
      if (t && touched.has(t.workspaceId)) ids.push(tokenId);
    }
    recheckTokens(ids).catch((err) => log.warn({ err }, 'workspace token re-check failed'));
  }

  function evictLaggards(): void {
    const now = Date.now();
    for (const s of subscribers) {
      if (s.behindSince === null || now - s.behindSince <= lim.maxBehindMs) continue;
      log.info({ behindMs: now - s.behindSince }, 'evicting a subscriber that stayed behind');
      s.fail(new SubscriptionError('SLOW_CONSUMER', 'subscriber fell too far behind; resubscribe with afterEventId'));
      onEvict.get(s)?.();
    }
  }

  async function startAt(afterEventId: string | null): Promise<bigint> {
    if (afterEventId === null) return readLogHead(db);
    const after = parseAfterEventId(afterEventId);
    const { oldest, issued } = await readLogBounds(db);
    if (after > issued) throw new SubscriptionError('BAD_USER_INPUT', 'afterEventId is ahead of the event log');
    // Expired: the oldest event still kept is not the one right after afterEventId, so events the client
    // has not seen may have been deleted by retention. (An id skipped by a rolled-back insert looks the
    // same; answering EVENTS_EXPIRED then only costs the client a re-read of state.) On an empty log
    // nothing can be replayed and nothing is reported: eventCursor reads "0" there, and must stay usable.
    if (oldest !== null && after + 1n < oldest) {
      throw new SubscriptionError('EVENTS_EXPIRED', 'events after afterEventId are no longer kept; re-read state and subscribe after eventCursor');
    }
    return after;
  }

  return {
    fanout,
    listenerCount: () => fanout.listenerCount,

    async bindToToken(viewer, target) {
      track(target, viewer.tokenId, viewer.workspaceId);
      // The revoking transaction writes an event of this workspace: a listener on it makes the fan-out
      // read that batch (an idle fan-out skips reads), and the batch hook re-checks the token.
      const stopListening = fanout.add({ workspaceId: viewer.workspaceId, onBatch: () => {} });
      const release = () => {
        untrack(target);
        stopListening();
      };
      try {
        // The token may have died between authentication and registration, with no event to follow.
        await recheckTokens([viewer.tokenId]);
      } catch (err) {
        release();
        throw err;
      }
      return release;
    },
    wake: (maxId) => fanout.wake(maxId),

    async open(req) {
      if (!started) throw new Error('subscription service not started');
      await started;
      const viewer = req.viewer;
      if (viewer.kind === 'ANONYMOUS') throw new SubscriptionError('UNAUTHENTICATED', 'authentication required');
      // A workspace token sees its own workspace only, with or without workspaceId (scope-auth has
      // already refused another id).
      const workspaceId = viewer.kind === 'WORKSPACE' ? viewer.workspaceId : (req.workspaceId?.toLowerCase() ?? null);
      // Where it starts: afterEventId (checked against retention), or the log's head right now.
      const startAfter = await startAt(req.afterEventId);
      let unregister = () => {};
      const sub: Subscriber = new Subscriber({
        fanout,
        db,
        filter: { workspaceId, statusOnly: req.statusOnly, parentId: req.parentId?.toLowerCase() ?? null, statuses: req.statuses ?? null },
        queueLimit: lim.queueLimit,
        onStop: (s) => forget(s, unregister),
      });
      // Registered for live batches first; the replay is read from the log by the subscriber's first
      // pull, after this. Whatever the fan-out dispatched between the head read and now is read back
      // from the log too (the subscriber starts behind, at startAfter), so nothing falls in between.
      // Counted as a listener only from here: established means "from startAfter on".
      unregister = fanout.add(sub);
      subscribers.add(sub);
      if (req.onEvict) onEvict.set(sub, req.onEvict);
      if (viewer.kind === 'WORKSPACE') track(sub, viewer.tokenId, viewer.workspaceId);
      sub.start(startAfter);
      try {
        // The token may have died between authentication and registration, with no event to follow.
        if (viewer.kind === 'WORKSPACE') await recheckTokens([viewer.tokenId]);
      } catch (err) {
        await sub.return();
        throw err;
      }
      return sub;
    },

    start() {
      started ??= (async () => {
        await fanout.start();
        fanout.onBatch(recheckAfterBatch);
        const evict = setInterval(evictLaggards, Math.min(1000, lim.maxBehindMs));
        const recheck = setInterval(() => {
          recheckTokens([...byToken.keys()]).catch((err) => log.warn({ err }, 'workspace token re-check failed'));
        }, lim.tokenRecheckMs);
        timers = [evict, recheck];
        for (const t of timers) t.unref();
      })();
      return started;
    },

    async stop() {
      for (const t of timers) clearInterval(t);
      fanout.stop();
      for (const s of [...subscribers]) await s.return();
    },
  };
}
