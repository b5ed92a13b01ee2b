// What the supervisor runs: a named loop with an interval and a tick. Only the loop's leader ticks.

export const LOOP_NAMES = ['orphan-sweeper', 'health-sweep', 'liveness', 'provision-timeout', 'hibernation'] as const;
/** The five loops API.md's `subsystems` lists, always in this order. */
export type LoopName = (typeof LOOP_NAMES)[number];

/** Loops the supervisor runs besides the five (not reported by `subsystems`). */
export const EXTRA_LOOP_NAMES = ['event-retention'] as const;

/**
 * The advisory lock key of a loop within RECONCILER_LOCK_CLASS: fixed per name (1..5 for the five in
 * API.md's order, then the extras), so every instance, whatever its version, asks for the same lock.
 */
export function lockKeyOf(loop: string): number {
  const i = [...LOOP_NAMES, ...EXTRA_LOOP_NAMES].indexOf(loop as never);
  if (i < 0) throw new Error(`unknown reconciler loop ${loop}`);
  return i + 1;
}

export interface LoopContext {
  /** Aborted when the supervisor stops or this instance loses the loop's leadership. */
  signal: AbortSignal;
  /** When this instance became the loop's leader: silence before it may be the server's own downtime. */
  leaderSince: Date;
}

export interface ReconcileLoop {
  name: string;
  intervalMs: number;
  /** Without a reachable container runtime this loop cannot do its job (and `subsystems` says so). */
  needsRuntime: boolean;
  /** Returns how many items it acted on. Throws TickSkipped when it could not do its job at all. */
  tick(ctx: LoopContext): Promise<number>;
  /** Called when this instance stops leading the loop (connection lost, shutdown). */
  onLeadershipLost?(): void;
}

/** The tick could not do its job (e.g. no container runtime): not a crash, but not a tick either. */
export class TickSkipped extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'TickSkipped';
  }
}

/** One error for a tick whose independent parts failed separately (each was still attempted). */
export class PartsFailed extends Error {
  constructor(readonly failures: Record<string, unknown>) {
    super(
      `failed: ${Object.entries(failures)
        .map(([k, e]) => `${k} (${e instanceof Error ? e.message : String(e)})`)
        .join('; ')}`,
    );
    this.name = 'PartsFailed';
  }
}
