// Live updates that survive a lost connection, following API.md's recipe for watching without
// missing anything: take the event cursor before reading any state, subscribe after it, apply what
// is replayed idempotently (graphcache writes are; the event log drops replays it already applied).
// When the socket drops, each subscription subscribes again after the newest event it applied, so
// the server replays exactly what was missed; EVENTS_EXPIRED means the gap is too old to replay,
// and the state is read again behind a new cursor.
import type { Client, CombinedError, TypedDocumentNode } from '@urql/core';
import { onEnd, pipe, subscribe } from 'wonka';
import {
  ActivityDocument,
  EventCursorDocument,
  StatusChangesDocument,
  type StatusChangesSubscription,
} from '../generated/graphql.ts';
import { notify } from '../lib/notices.ts';
import type { BoardApi } from './client.ts';
import { link, resyncs } from './connection.ts';
import { errorCode, requestErrorMessage } from './errors.ts';

export interface ResumableOptions<D, V> {
  /** Read at every (re)subscription: where to resume. */
  variables(): V;
  onData(data: D): void;
  /** The gap is older than the server keeps events: re-read state, then the subscription starts again. */
  onExpired?(): Promise<void>;
  /** The server completed the stream (default: subscribe again). */
  onComplete?(): void;
}

/** Subscribes until the returned function is called, resubscribing after failures with backoff. */
export function subscribeResumable<D, V extends Record<string, unknown>>(
  client: Client,
  doc: TypedDocumentNode<D, V>,
  options: ResumableOptions<D, V>,
): () => void {
  let stopped = false;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let current: { unsubscribe(): void } | undefined;
  let generation = 0;

  const start = () => {
    clearTimeout(retryTimer);
    retryTimer = undefined;
    if (stopped) return;
    let failure: CombinedError | undefined;
    const mine = ++generation; // the end of an earlier attempt is no news
    current?.unsubscribe();
    current = pipe(
      client.subscription(doc, options.variables()),
      onEnd(() => {
        if (!stopped && mine === generation) ended(failure);
      }),
      subscribe((result) => {
        if (result.error) failure = result.error;
        else if (result.data) {
          attempt = 0;
          options.onData(result.data);
        }
      }),
    );
  };

  const retryLater = () => {
    const delay = Math.min(5000, 250 * 2 ** attempt++) * (0.75 + Math.random() / 2);
    retryTimer = setTimeout(start, delay);
  };

  const ended = (failure: CombinedError | undefined) => {
    if (!failure) return options.onComplete ? options.onComplete() : retryLater();
    const code = errorCode(failure);
    if (code === 'EVENTS_EXPIRED' && options.onExpired) {
      options.onExpired().then(start, retryLater);
    } else if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN' || code === 'BAD_USER_INPUT') {
      notify('error', requestErrorMessage(failure)); // nothing a retry would change
    } else {
      retryLater(); // the socket went away, or the database is down (SERVICE_UNAVAILABLE)
    }
  };

  // A connection regained by another subscription (or the browser coming back online) means there
  // is no reason to wait out the backoff.
  const unwatch = link.subscribe((state) => {
    if (state === 'live' && retryTimer) start();
  });
  const online = () => retryTimer && start();
  addEventListener('online', online);

  start();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    unwatch();
    removeEventListener('online', online);
    current?.unsubscribe();
  };
}

export type StatusChange = StatusChangesSubscription['workspaceStatusChanged'];

export interface LiveSync {
  /** Resolves once the cursor is read: views read their state only after it (the recipe's order). */
  ready: Promise<void>;
  /** Called for every status change applied for the first time (not for replays of applied ones). */
  onStatusChange(listener: (change: StatusChange) => void): () => void;
  stop(): void;
}

/** The fleet's two live streams: ordered status changes (with replay) and activity (live only). */
export function startLiveSync(api: BoardApi): LiveSync {
  const { client, log } = api;
  const listeners = new Set<(change: StatusChange) => void>();
  const stops: Array<() => void> = [];
  let stopped = false;

  const readCursor = async () => {
    const result = await client.query(EventCursorDocument, {}, { requestPolicy: 'network-only' }).toPromise();
    if (!result.data) throw result.error ?? new Error('no event cursor');
    log.startAfter(result.data.eventCursor);
  };

  const ready = readCursor().then(() => {
    if (stopped) return;
    stops.push(
      subscribeResumable(client, StatusChangesDocument, {
        variables: () => ({ afterEventId: log.newest() }),
        onData(data) {
          const change = data.workspaceStatusChanged;
          // The cache updater has recorded it; a replay of an applied event leaves `newest` as it was.
          if (change.event.id === log.newest()) for (const l of [...listeners]) l(change);
        },
        async onExpired() {
          await readCursor();
          resyncs.set(resyncs.get() + 1); // views read their state again, after the new cursor
        },
      }),
      subscribeResumable(client, ActivityDocument, { variables: () => ({}), onData() {} }),
    );
  });

  return {
    ready,
    onStatusChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      stopped = true;
      for (const s of stops) s();
      listeners.clear();
    },
  };
}
