// Fixed one-minute (or any) windows per key, in memory. API.md fixes fixed windows per client IP; an
// instance counts only what it serves, which is what a per-instance limit means.
export interface LimitDecision {
  allowed: boolean;
  /** Seconds until the current window ends (for Retry-After). */
  retryAfterS: number;
  remaining: number;
}

export class FixedWindowLimiter {
  private windows = new Map<string, { start: number; count: number }>();
  private lastPrune = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts this call (refused calls count too) and says whether it is allowed. */
  hit(key: string): LimitDecision {
    const t = this.now();
    this.prune(t);
    let w = this.windows.get(key);
    if (!w || t - w.start >= this.windowMs) {
      w = { start: Math.floor(t / this.windowMs) * this.windowMs, count: 0 };
      this.windows.set(key, w);
    }
    w.count += 1;
    const retryAfterS = Math.max(1, Math.ceil((w.start + this.windowMs - t) / 1000));
    return { allowed: w.count <= this.limit, retryAfterS, remaining: Math.max(0, this.limit - w.count) };
  }

  /** Windows of idle keys are dropped so memory stays bounded by active clients. */
  private prune(t: number): void {
    if (t - this.lastPrune < this.windowMs) return;
    this.lastPrune = t;
    for (const [k, w] of this.windows) if (t - w.start >= this.windowMs) this.windows.delete(k);
  }
}
