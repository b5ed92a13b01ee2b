// The per-workspace pacing of workspaceActivity: a workspace marked as changed is sent at most once per
// interval, and what is sent is read when it is sent (the newest state). The interval is measured from
// one send to the next (after the read, when the messages go out), so read time cannot squeeze two
// sends of a workspace closer than the interval.
//
// A workspace not sent in the last interval waits for the next point of a grid of a quarter interval;
// a workspace sent at S is next due at S + interval. Workspaces sent together therefore stay together,
// and each subscriber's messages of one send go out in one write (http/graphql-ws-server.ts) rather
// than one write each. A change while its workspace is being read is sent one interval after that send.

export interface ThrottleOptions {
  intervalMs: number;
  /** Reads and sends these keys; resolves once they are sent (or could not be). */
  send: (keys: string[]) => Promise<void>;
  now?: () => number;
}

export class SendThrottle {
  /** Keys waiting, and when each is due (ms). */
  private readonly pending = new Map<string, number>();
  /** When each key was last sent; dropped once more than an interval old. */
  private readonly lastSent = new Map<string, number>();
  /** Keys being read and sent now, and those of them marked again meanwhile. */
  private readonly inFlight = new Set<string>();
  private readonly markedInFlight = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;
  private readonly grid: number;
  private readonly now: () => number;

  constructor(private readonly opts: ThrottleOptions) {
    const k = [4, 3, 2].find((d) => opts.intervalMs % d === 0) ?? 1;
    this.grid = opts.intervalMs / k;
    this.now = opts.now ?? Date.now;
  }

  mark(key: string): void {
    if (this.stopped) return;
    if (this.inFlight.has(key)) return void this.markedInFlight.add(key);
    if (this.pending.has(key)) return;
    const now = this.now();
    const last = this.lastSent.get(key);
    const paced = last === undefined ? 0 : last + this.opts.intervalMs;
    this.enqueue(key, paced > now ? paced : (Math.floor(now / this.grid) + 1) * this.grid);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private enqueue(key: string, due: number): void {
    this.pending.set(key, due);
    if (due >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = due;
    this.timer = setTimeout(() => this.run(), Math.max(0, due - this.now()));
  }

  private run(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.stopped) return;
    const now = this.now();
    const due: string[] = [];
    let next = Infinity;
    for (const [key, at] of this.pending) {
      if (at <= now) due.push(key);
      else if (at < next) next = at;
    }
    for (const key of due) {
      this.pending.delete(key);
      this.inFlight.add(key);
    }
    for (const [key, at] of this.lastSent) if (at + this.opts.intervalMs <= now) this.lastSent.delete(key);
    if (next < Infinity) {
      // A timer that fired a little early finds nothing due and is simply set again.
      this.timerAt = next;
      this.timer = setTimeout(() => this.run(), Math.max(0, next - now));
    }
    if (due.length > 0) void this.sendNow(due);
  }

  private async sendNow(keys: string[]): Promise<void> {
    try {
      await this.opts.send(keys);
    } finally {
      const sentAt = this.now();
      for (const key of keys) {
        this.inFlight.delete(key);
        this.lastSent.set(key, sentAt);
        if (this.markedInFlight.delete(key)) this.enqueue(key, sentAt + this.opts.intervalMs);
      }
    }
  }
}
