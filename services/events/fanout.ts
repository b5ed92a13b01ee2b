// The one reader of the log per process. A wake-up (in-process after a local commit, NOTIFY from
// another instance, the listener's reconnect, or the safety poll) makes it read `id > lastReadId`
// ONCE and hand the rows to every registered listener; subscribers never query the log per event
// unless they fell behind. Wake-ups that arrive while a read is running coalesce into one more read.
import type { Database } from '../db/client.js';
import type { Logger } from '../log.js';
import { readLogHead, readLogSlice } from './fanout-queries.js';
import type { EventRecord } from './log.js';

/** Rows (fromId, toId] of the log, read once and shared by every listener. */
export interface FanoutBatch {
  fromId: bigint;
  toId: bigint;
  events: EventRecord[];
  /** Scratch space shared by everyone delivering this batch (e.g. one execution per document). */
  memo: Map<string, unknown>;
}

export interface FanoutListener {
  /** Events of this workspace only; null = every workspace. */
  readonly workspaceId: string | null;
  /** Called synchronously with this listener's events of the batch (possibly none for a wildcard). */
  onBatch(batch: FanoutBatch, events: readonly EventRecord[]): void;
}

export interface FanoutStats {
  /** Log reads by the fan-out (not counting per-subscriber catch-up). */
  reads: number;
  batches: number;
  events: number;
}

export interface FanoutOptions {
  db: Database;
  log: Logger;
  pageSize?: number;
  /** Safety poll in case a wake-up was lost; 0 disables it. */
  pollIntervalMs?: number;
}

export class EventFanout {
  /** Every id up to this one has been read and dispatched. */
  lastReadId = 0n;
  readonly stats: FanoutStats = { reads: 0, batches: 0, events: 0 };
  private readonly byWorkspace = new Map<string, Set<FanoutListener>>();
  private readonly wildcard = new Set<FanoutListener>();
  private readonly batchHooks: Array<(batch: FanoutBatch) => void> = [];
  private count = 0;
  private reading = false;
  private again = false;
  private started = false;
  private stopped = false;
  private poll: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private readonly pageSize: number;

  constructor(private readonly opts: FanoutOptions) {
    this.pageSize = opts.pageSize ?? 500;
  }

  /** Starts after the current head: what was committed before start is history, read with afterEventId. */
  async start(): Promise<void> {
    const head = await readLogHead(this.opts.db);
    if (head > this.lastReadId) this.lastReadId = head;
    this.started = true;
    const every = this.opts.pollIntervalMs ?? 0;
    if (every > 0) {
      this.poll = setInterval(() => this.wake(), every);
      this.poll.unref();
    }
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.poll);
    clearTimeout(this.retry);
  }

  get listenerCount(): number {
    return this.count;
  }

  add(listener: FanoutListener): () => void {
    const set = listener.workspaceId === null ? this.wildcard : this.setFor(listener.workspaceId);
    set.add(listener);
    this.count += 1;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      set.delete(listener);
      this.count -= 1;
      if (listener.workspaceId !== null && set.size === 0) this.byWorkspace.delete(listener.workspaceId);
    };
  }

  /** Runs after each batch is dispatched (e.g. to re-check the credentials of affected subscribers). */
  onBatch(hook: (batch: FanoutBatch) => void): void {
    this.batchHooks.push(hook);
  }

  /**
   * Something may have been committed. `maxId` (from a NOTIFY or a local commit) lets an idle fan-out
   * skip the read: ids follow commit order, so everything up to maxId is committed and nobody needs it.
   */
  wake(maxId?: bigint): void {
    if (!this.started || this.stopped) return;
    if (maxId !== undefined && maxId <= this.lastReadId) return;
    if (maxId !== undefined && this.count === 0 && !this.reading) {
      this.lastReadId = maxId;
      return;
    }
    if (this.reading) {
      this.again = true;
      return;
    }
    void this.drain();
  }

  private setFor(workspaceId: string): Set<FanoutListener> {
    let set = this.byWorkspace.get(workspaceId);
    if (!set) {
      set = new Set();
      this.byWorkspace.set(workspaceId, set);
    }
    return set;
  }

  private async drain(): Promise<void> {
    this.reading = true;
    try {
      do {
        this.again = false;
        for (;;) {
          this.stats.reads += 1;
          const rows = await readLogSlice(this.opts.db, this.lastReadId, null, this.pageSize);
          if (rows.length === 0 || this.stopped) break;
          const batch: FanoutBatch = { fromId: this.lastReadId, toId: rows[rows.length - 1]!.id, events: rows, memo: new Map() };
          this.lastReadId = batch.toId;
          this.dispatch(batch);
          if (rows.length < this.pageSize) break;
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      // The database is unreachable for now: try again shortly; nothing is lost, lastReadId did not move.
      this.opts.log.warn({ err }, 'event fan-out read failed; retrying');
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.wake(), 1000);
      this.retry.unref();
    } finally {
      this.reading = false;
    }
  }

  private dispatch(batch: FanoutBatch): void {
    this.stats.batches += 1;
    this.stats.events += batch.events.length;
    const byWorkspace = new Map<string, EventRecord[]>();
    for (const e of batch.events) {
      const list = byWorkspace.get(e.workspaceId);
      if (list) list.push(e);
      else byWorkspace.set(e.workspaceId, [e]);
    }
    for (const l of this.wildcard) this.deliver(l, batch, batch.events);
    for (const [workspaceId, events] of byWorkspace) {
      const set = this.byWorkspace.get(workspaceId);
      if (set) for (const l of set) this.deliver(l, batch, events);
    }
    for (const hook of this.batchHooks) {
      try {
        hook(batch);
      } catch (err) {
        this.opts.log.warn({ err }, 'event batch hook failed');
      }
    }
  }

  private deliver(l: FanoutListener, batch: FanoutBatch, events: readonly EventRecord[]): void {
    try {
      l.onBatch(batch, events);
    } catch (err) {
      // One broken subscriber must not stop the others.
      this.opts.log.warn({ err }, 'event subscriber failed');
    }
  }
}
