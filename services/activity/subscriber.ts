// One workspaceActivity subscription: a queue holding at most one delivery per workspace (a newer state
// of a workspace replaces the one not yet sent, so a slow reader costs memory bounded by the workspaces
// it may see, never by the number of heartbeats), read as an async iterator.
import type { WorkspaceRecord } from '../workspaces/record.js';

/** What a workspaceActivity subscriber yields. `batch.memo` and `shareKey` let subscribers with the
 * same document and visibility share one execution per delivery (http/subscription-execution.ts). */
export interface ActivityDelivery {
  workspace: WorkspaceRecord;
  batch: { memo: Map<string, unknown> };
  shareKey: string;
}

export interface ActivityFilter {
  /** Only this workspace; null = every workspace the viewer may see. */
  workspaceId: string | null;
  /** Only this workspace's direct children. */
  parentId: string | null;
}

const DONE: IteratorResult<ActivityDelivery> = { done: true, value: undefined };

export class ActivitySubscriber implements AsyncIterableIterator<ActivityDelivery> {
  private queue = new Map<string, ActivityDelivery>();
  private pulls: Array<(r: IteratorResult<ActivityDelivery>) => void> = [];
  private stopped = false;

  constructor(
    readonly filter: ActivityFilter,
    private readonly onStop: (s: ActivitySubscriber) => void,
  ) {}

  matches(w: WorkspaceRecord): boolean {
    return (this.filter.workspaceId === null || w.id === this.filter.workspaceId) && (this.filter.parentId === null || w.parentId === this.filter.parentId);
  }

  push(d: ActivityDelivery): void {
    if (this.stopped) return;
    const pull = this.pulls.shift();
    if (pull) return pull({ value: d, done: false });
    // Re-inserted at the end: the newest state, delivered in the order the states arrived.
    this.queue.delete(d.workspace.id);
    this.queue.set(d.workspace.id, d);
  }

  /** The token behind this subscription stopped authenticating: end now (activity has no log to drain). */
  endAfterId(): void {
    this.end();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  next(): Promise<IteratorResult<ActivityDelivery>> {
    const first = this.queue.entries().next();
    if (!first.done) {
      this.queue.delete(first.value[0]);
      return Promise.resolve({ value: first.value[1], done: false });
    }
    if (this.stopped) return Promise.resolve(DONE);
    return new Promise((resolve) => this.pulls.push(resolve));
  }

  async return(): Promise<IteratorResult<ActivityDelivery>> {
    this.queue.clear();
    this.end();
    return DONE;
  }

  async throw(err?: unknown): Promise<IteratorResult<ActivityDelivery>> {
    this.queue.clear();
    this.end();
    throw err;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private end(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onStop(this);
    if (this.queue.size === 0) for (const pull of this.pulls.splice(0)) pull(DONE);
  }
}
