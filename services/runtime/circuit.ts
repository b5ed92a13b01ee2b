// A circuit around any ContainerRuntime (API.md "Outages"). The runtime counts as unreachable from the
// first call that fails to connect or gets no answer within RUNTIME_TIMEOUT_MS, until a probe succeeds:
// meanwhile every call fails at once with RuntimeUnavailable, so no request waits for a daemon that is
// gone or hung. Probes run in the background every HEALTH_SWEEP_INTERVAL_S (and whenever ping() is
// asked for by background work, e.g. the health sweep's tick). Request paths only read available().
import { RuntimeUnavailable, type ContainerRuntime, type EventStreamHandle } from './types.js';

export interface CircuitOptions {
  /** Longest wait for one call (a stop also gets its grace period on top). */
  timeoutMs: number;
  /** How often a background probe asks an unreachable runtime again. */
  probeIntervalMs: number;
  log: { warn(obj: object | string, msg?: string): void; info(obj: object | string, msg?: string): void };
}

export interface CircuitRuntime extends ContainerRuntime {
  /** Stops the background probe (server shutdown). */
  dispose(): void;
}

type State = 'unknown' | 'up' | 'down';

/** Not calls to guard: the circuit's own answers, and what is not a daemon call. */
const UNGUARDED = new Set(['kind', 'available', 'ping', 'onReachable', 'dispose']);

/**
 * Every method of `inner` (its own extras too, e.g. Swarm's) runs through the circuit; `available()`
 * also requires the runtime's own verdict (a daemon that answers but is no Swarm manager counts as none).
 */
export function withCircuit<T extends ContainerRuntime>(inner: T, opts: CircuitOptions): T & CircuitRuntime {
  let state: State = 'unknown';
  let probing: Promise<boolean> | null = null;
  const reachableAgain: Array<() => void> = [];

  function setState(next: State, err?: unknown): void {
    if (next === state) return;
    const was = state;
    state = next;
    if (next === 'down') opts.log.warn({ err: err instanceof Error ? err.message : err }, 'container runtime unreachable; calls fail at once until a probe succeeds');
    if (next === 'up' && was === 'down') {
      opts.log.info('container runtime reachable again');
      for (const fn of reachableAgain) queueMicrotask(fn);
    }
  }

  /** Runs one call with a deadline; a connection failure or no answer opens the circuit. */
  async function guarded<T>(op: string, fn: () => Promise<T>, extraMs = 0, onLate?: (result: T) => void, probe = false): Promise<T> {
    if (state === 'down' && !probe) throw new RuntimeUnavailable(`container runtime unreachable (${op} not attempted)`);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RuntimeUnavailable(`container runtime ${op}: no answer within ${opts.timeoutMs + extraMs} ms`)), opts.timeoutMs + extraMs);
    });
    let late = false;
    const call = fn();
    // It may settle after the deadline: its outcome is then no one's (a late stream is closed).
    call.then((r) => late && onLate?.(r), () => {});
    try {
      const result = await Promise.race([call, deadline]);
      setState('up');
      return result;
    } catch (err) {
      late = true;
      if (err instanceof RuntimeUnavailable) setState('down', err);
      else setState('up'); // an error answer is still an answer
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Asks the runtime now (one probe at a time, whatever the number of callers). */
  function ping(): Promise<boolean> {
    probing ??= (async () => {
      try {
        const answered = await Promise.race([
          inner.ping(),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), opts.timeoutMs).unref()),
        ]);
        setState(answered ? 'up' : 'down', answered ? undefined : 'probe failed');
        return answered;
      } catch (err) {
        setState('down', err);
        return false;
      }
    })().finally(() => {
      probing = null;
    });
    return probing;
  }

  const prober = setInterval(() => {
    if (state !== 'up') void ping();
  }, opts.probeIntervalMs);
  prober.unref();

  const guardedMethods: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(inner)) {
    if (typeof method !== 'function' || UNGUARDED.has(name)) continue;
    const call = (args: unknown[]) => () => (method as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
    guardedMethods[name] =
      name === 'stop'
        ? // A stop is answered only once its grace period is over.
          (...args: unknown[]) => guarded(name, call(args), ((args[1] as number | undefined) ?? 10) * 1000)
        : name === 'events'
          ? // Only the opening is bounded: the stream stays silent for as long as nothing happens. Its
            // reconnects are background work that asks the runtime anyway, so they count as probes.
            (...args: unknown[]) => guarded(name, call(args), 0, (h) => (h as EventStreamHandle).close(), true)
          : (...args: unknown[]) => guarded(name, call(args));
  }

  return {
    ...inner,
    ...guardedMethods,
    kind: inner.kind,
    available: () => state === 'up' && inner.available(),
    ping,
    onReachable: (fn: () => void) => void reachableAgain.push(fn),
    dispose: () => clearInterval(prober),
  } as T & CircuitRuntime;
}
