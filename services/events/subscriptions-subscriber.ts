// One subscription's view of the log: a bounded queue fed by the shared fan-out while the subscriber
// keeps up ("live"), and by its own reads of the log while it does not ("behind": replaying from
// afterEventId, or after its queue overflowed). The switch between the two happens synchronously when
// its cursor has reached what the fan-out has read, so nothing is missed and nothing is sent twice.
import type { Database } from '../db/client.js';
import type { EventFanout, FanoutBatch, FanoutListener } from './fanout.js';
import { matchesFilter, readLogSlice, type LogSliceFilter } from './fanout-queries.js';
import type { EventRecord } from './log.js';

/** What a subscription yields: a committed row, and the batch it was read in (shared work lives there). */
export interface Delivery {
  event: EventRecord;
  batch: FanoutBatch;
}

export type SubscriptionErrorCode = 'EVENTS_EXPIRED' | 'BAD_USER_INPUT' | 'UNAUTHENTICATED' | 'SLOW_CONSUMER';

/** Ends a subscription with a code the GraphQL layer turns into extensions.code. */
export class SubscriptionError extends Error {
  name = 'SubscriptionError';
  constructor(
    readonly code: SubscriptionErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface SubscriberOptions {
  fanout: EventFanout;
  db: Database;
  filter: LogSliceFilter;
  /** Bounded queue: a live batch that does not fit makes the subscriber fall behind instead. */
  queueLimit: number;
  /** Called once when the subscriber stops, whatever the reason (unregisters it everywhere). */
  onStop: (s: Subscriber) => void;
}

const DB_RETRY_MS = 1000;
const DONE: IteratorResult<Delivery> = { done: true, value: undefined };
const WAIT = Symbol('wait');
const CATCH_UP = Symbol('catch up');
type Step = IteratorResult<Delivery> | typeof WAIT | typeof CATCH_UP;

export class Subscriber implements FanoutListener, AsyncIterableIterator<Delivery> {
  readonly workspaceId: string | null;
  /** Since when the subscriber has been missing live batches (null while it keeps up). */
  behindSince: number | null = null;
  private mode: 'init' | 'live' | 'behind' = 'init';
  /** live: events at or below it are skipped; behind: every event up to it has been queued. */
  private cursor = 0n;
  private queue: Delivery[] = [];
  /** Pulls waiting for an event, answered in order. */
  private pulls: Array<{ resolve: (r: IteratorResult<Delivery>) => void; reject: (err: unknown) => void }> = [];
  private stopped = false;
  private error: Error | null = null;
  private endAfter: bigint | null = null;
  private busy: Promise<void> | null = null;

  constructor(private readonly opts: SubscriberOptions) {
    this.workspaceId = opts.filter.workspaceId;
  }

  /** Begins delivery of the events after `cursor` (replayed from the log until it reaches the live edge). */
  start(cursor: bigint): void {
    this.cursor = cursor;
    this.mode = 'behind';
    this.wakeConsumer();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  onBatch(batch: FanoutBatch, events: readonly EventRecord[]): void {
    if (this.stopped) return;
    if (this.mode !== 'live') {
      if (this.mode === 'behind') this.behindSince ??= Date.now();
      return;
    }
    for (const e of events) {
      if (e.id <= this.cursor) continue;
      if (this.endAfter !== null && e.id > this.endAfter) break;
      if (!matchesFilter(e, this.opts.filter)) continue;
      if (this.queue.length >= this.opts.queueLimit) {
        // Drop the rest of the batch from memory; it will be read back from the log once the queue drains.
        this.mode = 'behind';
        this.cursor = e.id - 1n;
        this.behindSince = Date.now();
        break;
      }
      this.queue.push({ event: e, batch });
    }
    if (this.mode === 'live' && batch.toId > this.cursor) this.cursor = batch.toId;
    this.wakeConsumer();
  }

  /** Deliver everything committed up to `id`, then complete (the credential stopped being valid). */
  endAfterId(id: bigint): void {
    if (this.endAfter === null || id < this.endAfter) this.endAfter = id;
    this.wakeConsumer();
  }

  /** Ends at once: the consumer's next pull throws `err` (queued events are dropped). */
  fail(err: Error): void {
    if (this.stopped) return;
    this.error = err;
    this.queue = [];
    this.stop();
  }

  next(): Promise<IteratorResult<Delivery>> {
    // Idle, a pull is a pending promise and its resolvers: no suspended async frame, and a batch
    // resolves it directly with the event (thousands of these wait at once).
    return new Promise((resolve, reject) => {
      this.pulls.push({ resolve, reject });
      this.serve();
    });
  }

  async return(): Promise<IteratorResult<Delivery>> {
    this.queue = [];
    this.stop();
    return DONE;
  }

  async throw(err?: unknown): Promise<IteratorResult<Delivery>> {
    this.queue = [];
    this.stop();
    throw err;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** What the next pull gets, decided synchronously. */
  private step(): IteratorResult<Delivery> | typeof WAIT | typeof CATCH_UP {
    for (;;) {
      const item = this.queue.shift();
      if (item) return { value: item, done: false };
      if (this.error) {
        const err = this.error;
        this.error = null;
        throw err;
      }
      if (this.stopped) return DONE;
      const fanout = this.opts.fanout;
      const position = this.mode === 'live' && fanout.lastReadId > this.cursor ? fanout.lastReadId : this.cursor;
      if (this.endAfter !== null && this.mode !== 'init' && position >= this.endAfter) {
        this.stop();
        continue;
      }
      if (this.mode !== 'behind') return WAIT;
      if (this.cursor < fanout.lastReadId) return CATCH_UP;
      // Caught up with what the fan-out has read: from here on, its batches feed the queue.
      this.mode = 'live';
      this.behindSince = null;
      return WAIT;
    }
  }

  /** One page of the log after the cursor, up to what the fan-out has read (no further: see start()). */
  private async catchUp(): Promise<void> {
    const fanoutHead = this.opts.fanout.lastReadId;
    const target = this.endAfter !== null && this.endAfter < fanoutHead ? this.endAfter : fanoutHead;
    const room = Math.max(1, this.opts.queueLimit - this.queue.length);
    let rows: EventRecord[];
    try {
      rows = await readLogSlice(this.opts.db, this.cursor, target, room, this.opts.filter);
    } catch {
      // The database is away: stay behind and try again (the eviction limit bounds how long).
      await new Promise((r) => setTimeout(r, DB_RETRY_MS).unref());
      return;
    }
    if (this.stopped) return;
    const batch: FanoutBatch = { fromId: this.cursor, toId: target, events: rows, memo: new Map() };
    for (const event of rows) this.queue.push({ event, batch });
    this.cursor = rows.length < room ? target : rows[rows.length - 1]!.id;
    // Caught up with what the fan-out has read: its batches feed the queue from here on (decided
    // now, synchronously, not at the next pull: a subscriber that has caught up is not behind).
    if (this.cursor >= this.opts.fanout.lastReadId) {
      this.mode = 'live';
      this.behindSince = null;
    }
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.opts.onStop(this);
    this.wakeConsumer();
  }

  private wakeConsumer(): void {
    if (this.pulls.length > 0) this.serve();
  }

  /** Answers waiting pulls with what is available now; a catch-up read holds them until it is done. */
  private serve(): void {
    while (this.pulls.length > 0 && !this.busy) {
      let step: Step;
      try {
        step = this.step();
      } catch (err) {
        this.pulls.shift()!.reject(err);
        continue;
      }
      if (step === WAIT) return;
      if (step === CATCH_UP) {
        this.busy = this.catchUp()
          .catch((err: unknown) => this.fail(err as Error))
          .finally(() => {
            this.busy = null;
            this.serve();
          });
        return;
      }
      this.pulls.shift()!.resolve(step);
    }
  }
}
