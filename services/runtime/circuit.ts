// A circuit around any ContainerRuntime (API.md "Outages"). The runtime counts as unreachable from the
// first call that fails to connect or gets no answer within RUNTIME_TIMEOUT_MS, until a probe succeeds:
// meanwhile every call fails at once with RuntimeUnavailable, so no request waits for a daemon that is
// gone or hung. Probes run in the background every HEALTH_SWEEP_INTERVAL_S (and whenever ping() is
// asked for by background work, e.g. the health sweep's tick). Request paths only read available().
import { RuntimeUnavailable, type ContainerRuntime } from './types.js';

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

export function withCircuit(inner: ContainerRuntime, opts: CircuitOptions): CircuitRuntime {
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

  return {
    kind: inner.kind,
    available: () => state === 'up',
    ping,
    create: (spec) => guarded('create', () => inner.create(spec)),
    start: (id) => guarded('start', () => inner.start(id)),
    stop: (id, timeoutSeconds) => guarded('stop', () => inner.stop(id, timeoutSeconds), (timeoutSeconds ?? 10) * 1000),
    remove: (id, o) => guarded('remove', () => inner.remove(id, o)),
    inspect: (id) => guarded('inspect', () => inner.inspect(id)),
    list: (filters) => guarded('list', () => inner.list(filters)),
    listByNamePrefix: (prefix) => guarded('listByNamePrefix', () => inner.listByNamePrefix(prefix)),
    writeFile: (id, dir, name, content, mode) => guarded('writeFile', () => inner.writeFile(id, dir, name, content, mode)),
    listVolumes: (filters) => guarded('listVolumes', () => inner.listVolumes(filters)),
    removeVolume: (name) => guarded('removeVolume', () => inner.removeVolume(name)),
    logs: (id, tail) => guarded('logs', () => inner.logs(id, tail)),
    imageExists: (image) => guarded('imageExists', () => inner.imageExists(image)),
    // Only the opening is bounded: the stream itself stays silent for as long as nothing happens. Its
    // reconnects are background work that asks the runtime anyway, so they count as probes.
    events: (onEvent, onError) => guarded('events', () => inner.events(onEvent, onError), 0, (h) => h.close(), true),
    hostCpuCount: () => guarded('hostCpuCount', () => inner.hostCpuCount()),
    onReachable: (fn) => void reachableAgain.push(fn),
    dispose: () => clearInterval(prober),
  };
}
