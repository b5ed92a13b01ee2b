// workspaceLogs (API.md "Frontends"): the last `tail` lines of a workspace's container, then each new
// line as it is written, ending when the container stops or is removed. With no container or no
// runtime it ends at once with nothing. Every runtime stream opened here is closed when the subscriber
// leaves or the output ends; openStreams() counts the ones still open (tests hold it to zero).
import { BadUserInputError } from '../errors.js';
import { SubscriptionError } from '../events/subscriptions-subscriber.js';
import { MAX_LOG_TAIL, containersFor } from '../lifecycle/container-view.js';
import type { Logger } from '../log.js';
import type { ContainerRuntime, LogFollower, LogLine } from '../runtime/types.js';
import { EXTERNAL_RUNTIME, isUuid, type WorkspaceRecord } from '../workspaces/record.js';

export type { LogLine };

/** Lines waiting for a subscriber that reads slower than the container writes. The tail alone may be
 * 10,000; past this the subscription ends with SLOW_CONSUMER rather than hold memory without bound. */
const QUEUE_LIMIT = 20_000;

const slowConsumer = () => new SubscriptionError('SLOW_CONSUMER', `more than ${QUEUE_LIMIT} log lines waited for this subscriber; resubscribe with a tail`);

export interface LogFollowService {
  /** BadUserInputError for a tail outside 0..10,000. */
  follow(workspaceId: string, tail: number): Promise<AsyncIterableIterator<LogLine>>;
  /** Runtime log streams currently open. */
  openStreams(): number;
}

const DONE: IteratorResult<LogLine> = { done: true, value: undefined };

/** One subscription's lines; `attach` hands it the runtime stream once that is open. */
class LogSubscription implements AsyncIterableIterator<LogLine> {
  private queue: LogLine[] = [];
  private pulls: Array<{ resolve: (r: IteratorResult<LogLine>) => void; reject: (e: unknown) => void }> = [];
  private ended = false;
  private error: Error | null = null;
  private follower: LogFollower | null = null;

  constructor(private readonly released: () => void) {}

  readonly push = (line: LogLine): void => {
    if (this.ended) return;
    if (this.queue.length >= QUEUE_LIMIT) return this.finish(slowConsumer());
    const pull = this.pulls.shift();
    if (pull) pull.resolve({ value: line, done: false });
    else this.queue.push(line);
  };

  /** The output ended (or could not be had): deliver what is queued, then complete (or fail with `err`). */
  readonly finish = (err?: Error): void => {
    if (this.ended) return;
    this.ended = true;
    // A broken runtime stream just ends the output; only a subscriber that fell behind is told so.
    this.error = err instanceof SubscriptionError ? err : null;
    this.release();
    this.serve();
  };

  attach(follower: LogFollower): void {
    if (this.ended) {
      // The subscriber left (or the output ended) before the stream was open.
      follower.close();
      this.released();
      return;
    }
    this.follower = follower;
  }

  next(): Promise<IteratorResult<LogLine>> {
    const line = this.queue.shift();
    if (line) return Promise.resolve({ value: line, done: false });
    return new Promise((resolve, reject) => {
      this.pulls.push({ resolve, reject });
      this.serve();
    });
  }

  async return(): Promise<IteratorResult<LogLine>> {
    this.queue = [];
    this.finish();
    return DONE;
  }

  async throw(err?: unknown): Promise<IteratorResult<LogLine>> {
    this.queue = [];
    this.finish();
    throw err;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private release(): void {
    const f = this.follower;
    this.follower = null;
    if (f) {
      f.close();
      this.released();
    }
  }

  private serve(): void {
    if (!this.ended || this.queue.length > 0) return;
    for (const pull of this.pulls.splice(0)) {
      if (this.error) pull.reject(this.error);
      else pull.resolve(DONE);
    }
  }
}

export function createLogFollowService(deps: {
  runtime: ContainerRuntime;
  log: Logger;
  getWorkspace: (id: string) => Promise<WorkspaceRecord | null>;
}): LogFollowService {
  const { runtime, log } = deps;
  let open = 0;

  async function start(sub: LogSubscription, workspaceId: string, tail: number): Promise<void> {
    if (!isUuid(workspaceId) || runtime.kind === 'none' || !runtime.available()) return sub.finish();
    const workspace = await deps.getWorkspace(workspaceId);
    if (!workspace || workspace.runtime === EXTERNAL_RUNTIME || workspace.status === 'REMOVED') return sub.finish();
    const [container] = await containersFor(runtime, log, [workspace.id]);
    if (!container) return sub.finish();
    let follower: LogFollower | null;
    try {
      follower = await runtime.followLogs(container.id, tail, sub.push, sub.finish);
    } catch (err) {
      log.debug({ err }, 'container logs unavailable');
      return sub.finish();
    }
    if (!follower) return sub.finish();
    open += 1;
    sub.attach(follower);
  }

  return {
    async follow(workspaceId, tail) {
      if (!Number.isInteger(tail) || tail < 0 || tail > MAX_LOG_TAIL) throw new BadUserInputError(`tail must be 0 to ${MAX_LOG_TAIL}`);
      const sub = new LogSubscription(() => (open -= 1));
      await start(sub, workspaceId, tail);
      return sub;
    },
    openStreams: () => open,
  };
}
