// Keeps the runtime's event stream open while this instance leads the health loop. A broken stream
// reconnects with backoff (base doubling to max), and after every reconnect `onReconnected` runs a
// full reconcile: whatever died while the stream was down is found there, since its events are lost.
import type { Logger } from '../log.js';
import type { ContainerRuntime, EventStreamHandle, RuntimeEvent } from '../runtime/types.js';

export interface EventStreamKeeperOptions {
  runtime: ContainerRuntime;
  log: Logger;
  onEvent(e: RuntimeEvent): void;
  onReconnected(): Promise<void>;
  baseMs?: number;
  maxMs?: number;
}

export interface EventStreamKeeper {
  /** Opens the stream unless it is open or a reconnect is already scheduled. */
  start(): void;
  /** Closes it and cancels any reconnect (leadership lost, shutdown). */
  stop(): void;
  isOpen(): boolean;
  /** How many times the stream was re-opened after breaking or failing to open. */
  reconnects(): number;
  /** How many times an open stream broke (the daemon went away, or the connection did). */
  breaks(): number;
}

export function createEventStreamKeeper(opts: EventStreamKeeperOptions): EventStreamKeeper {
  const { runtime, log } = opts;
  const baseMs = opts.baseMs ?? 1_000;
  const maxMs = opts.maxMs ?? 30_000;
  let handle: EventStreamHandle | null = null;
  let timer: NodeJS.Timeout | null = null;
  let opening = false;
  let active = false;
  let failures = 0;
  let reconnected = 0;
  let broken = 0;
  // Bumped by stop(): an open that completes after it belongs to a finished session and is closed.
  let session = 0;

  function schedule(): void {
    if (!active || timer) return;
    const delay = Math.min(maxMs, baseMs * 2 ** failures++);
    timer = setTimeout(() => {
      timer = null;
      void connect(true);
    }, delay);
    timer.unref();
  }

  function onError(err: Error): void {
    handle = null;
    broken++;
    if (!active) return;
    log.warn({ err: err.message }, 'runtime event stream broke; reconnecting');
    schedule();
  }

  async function connect(isReconnect: boolean): Promise<void> {
    if (!active || handle || opening) return;
    opening = true;
    const mine = session;
    try {
      const h = await runtime.events(opts.onEvent, onError);
      if (mine !== session || !active) {
        h.close();
        return;
      }
      handle = h;
      failures = 0;
      if (isReconnect) {
        reconnected++;
        log.info('runtime event stream reconnected; running a full reconcile');
        await opts.onReconnected().catch((err: unknown) => log.warn({ err }, 'reconcile after reconnect failed'));
      }
    } catch (err) {
      log.debug({ err }, 'runtime event stream could not open');
      schedule();
    } finally {
      opening = false;
    }
  }

  return {
    start() {
      if (active) {
        if (!handle && !timer) void connect(true);
        return;
      }
      active = true;
      failures = 0;
      void connect(false);
    },
    stop() {
      active = false;
      session++;
      if (timer) clearTimeout(timer);
      timer = null;
      handle?.close();
      handle = null;
    },
    isOpen: () => handle !== null,
    reconnects: () => reconnected,
    breaks: () => broken,
  };
}
