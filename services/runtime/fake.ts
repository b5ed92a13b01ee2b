// An in-memory ContainerRuntime for unit tests of the lifecycle and the reconcilers. It keeps the
// contract's rules (idempotent stop/remove, null inspect for missing, RuntimeUnavailable when
// "down", name conflicts, managed-only events) so logic tested against it behaves the same on Docker.
import { randomBytes } from 'node:crypto';
import type { FakeContainer, FakeFile, FakeRuntime, FakeRuntimeOptions, FakeVolume, RuntimeMethod } from './fake-types.js';
import {
  ContainerNameConflict,
  LABEL_MANAGED,
  RuntimeUnavailable,
  type ContainerInfo,
  type EventStreamHandle,
  type LogLine,
  type RuntimeEvent,
  type RuntimeEventAction,
  type VolumeInfo,
} from './types.js';

export type { FakeContainer, FakeFile, FakeRuntime, FakeRuntimeOptions, FakeVolume, RuntimeMethod };

const CONFIG_DIR = '/configs';

function httpError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), { statusCode });
}

function matchesLabels(labels: Record<string, string>, filters: string[]): boolean {
  return filters.every((f) => {
    const eq = f.indexOf('=');
    return eq < 0 ? f in labels : labels[f.slice(0, eq)] === f.slice(eq + 1);
  });
}

export function createFakeRuntime(opts: FakeRuntimeOptions = {}): FakeRuntime {
  const cpuCount = opts.cpuCount ?? 2;
  const images = opts.images ? new Set(opts.images) : null;
  const containers = new Map<string, FakeContainer>();
  const volumes = new Map<string, FakeVolume>();
  const calls: FakeRuntime['calls'] = [];
  const failures = new Map<RuntimeMethod, Error[]>();
  const streams = new Set<{ onEvent: (e: RuntimeEvent) => void; onError: (err: Error) => void }>();
  /** Open log followers, by container id. */
  const followers = new Map<string, Set<{ onLine: (l: LogLine) => void; end: () => void }>>();
  let up = true;
  let reachable = true;

  /** Bookkeeping every operation goes through: call log, outage, injected failures. */
  function enter(method: RuntimeMethod, args: unknown[]): void {
    calls.push({ method, args });
    if (!up) {
      reachable = false;
      throw new RuntimeUnavailable(`fake runtime down (${method})`);
    }
    const err = failures.get(method)?.shift();
    if (err) {
      if (err instanceof RuntimeUnavailable) reachable = false;
      throw err;
    }
    reachable = true;
  }

  function find(idOrName: string): FakeContainer | undefined {
    const byId = containers.get(idOrName);
    if (byId) return byId;
    const name = idOrName.replace(/^\//, '');
    for (const c of containers.values()) if (c.name === name) return c;
    return undefined;
  }

  function mustFind(idOrName: string): FakeContainer {
    const c = find(idOrName);
    if (!c) throw httpError(404, `No such container: ${idOrName}`);
    return c;
  }

  function info(c: FakeContainer): ContainerInfo {
    return {
      id: c.id,
      name: c.name,
      image: c.spec.image,
      running: c.running,
      startedAt: c.startedAt,
      labels: { ...c.spec.labels },
      state: c.running ? 'running' : c.startedAt ? 'exited' : 'created',
      exitCode: c.exitCode,
    };
  }

  function deliver(event: RuntimeEvent): void {
    for (const s of [...streams]) s.onEvent({ ...event, labels: { ...event.labels } });
  }

  /** What Docker would send for this container, subject to the managed-label filter. */
  function announce(c: FakeContainer, action: RuntimeEventAction, exitCode?: number): void {
    if (c.spec.labels[LABEL_MANAGED] !== 'true') return;
    const event: RuntimeEvent = { action, containerId: c.id, name: c.name, labels: c.spec.labels };
    if (exitCode !== undefined) event.exitCode = exitCode;
    deliver(event);
  }

  /** Like Docker, a container's output ends for its followers when it stops. */
  function endFollowers(c: FakeContainer): void {
    for (const f of [...(followers.get(c.id) ?? [])]) f.end();
  }

  function halt(c: FakeContainer, exitCode: number, oom = false): void {
    if (!c.running) return;
    c.running = false;
    c.exitCode = exitCode;
    endFollowers(c);
    if (oom) announce(c, 'oom');
    announce(c, 'die', exitCode);
  }

  function fileStore(c: FakeContainer, path: string): Map<string, FakeFile> | undefined {
    return path === CONFIG_DIR || path.startsWith(`${CONFIG_DIR}/`) ? volumes.get(c.spec.configVolume)?.files : c.files;
  }

  const runtime: FakeRuntime = {
    kind: 'fake',
    containers,
    volumes,
    calls,

    available: () => up && reachable,

    async ping() {
      calls.push({ method: 'ping', args: [] });
      reachable = up;
      return up;
    },

    async create(spec) {
      enter('create', [spec]);
      if (images && !images.has(spec.image)) throw httpError(404, `No such image: ${spec.image}`);
      if (find(spec.name)) throw new ContainerNameConflict(spec.name);
      if (!volumes.has(spec.configVolume)) {
        volumes.set(spec.configVolume, { name: spec.configVolume, labels: { ...spec.volumeLabels }, files: new Map() });
      }
      const id = randomBytes(32).toString('hex');
      containers.set(id, {
        id,
        name: spec.name,
        spec: structuredClone(spec),
        effectiveCpus: spec.cpus > 0 ? Math.min(spec.cpus, cpuCount) : 0,
        running: false,
        startedAt: null,
        exitCode: null,
        files: new Map(),
        logs: '',
      });
      return { id };
    },

    async start(idOrName) {
      enter('start', [idOrName]);
      const c = mustFind(idOrName);
      if (c.running) return;
      c.running = true;
      c.startedAt = new Date();
      c.exitCode = null;
      announce(c, 'start');
    },

    async stop(idOrName, timeoutSeconds) {
      enter('stop', [idOrName, timeoutSeconds]);
      const c = find(idOrName);
      if (!c || !c.running) return;
      halt(c, 143);
      announce(c, 'stop');
    },

    async remove(idOrName, removeOpts) {
      enter('remove', [idOrName, removeOpts]);
      const c = find(idOrName);
      if (!c) return;
      if (c.running && !removeOpts?.force) throw httpError(409, `You cannot remove a running container ${c.id}`);
      halt(c, 137);
      containers.delete(c.id);
      announce(c, 'destroy');
    },

    async inspect(idOrName) {
      enter('inspect', [idOrName]);
      const c = find(idOrName);
      return c ? info(c) : null;
    },

    async list(labelFilters) {
      enter('list', [labelFilters]);
      return [...containers.values()].filter((c) => matchesLabels(c.spec.labels, labelFilters)).map(info);
    },

    async listByNamePrefix(prefix) {
      enter('listByNamePrefix', [prefix]);
      return [...containers.values()].filter((c) => c.name.startsWith(prefix)).map(info);
    },

    async writeFile(idOrName, dir, fileName, content, mode) {
      enter('writeFile', [idOrName, dir, fileName, content, mode]);
      const c = mustFind(idOrName);
      const path = `${dir.replace(/\/+$/, '')}/${fileName}`;
      const store = fileStore(c, path);
      if (!store) throw httpError(404, `Could not find the file ${dir} in container ${c.name}`);
      store.set(path, { content, mode });
    },

    async listVolumes(labelFilters) {
      enter('listVolumes', [labelFilters]);
      return [...volumes.values()]
        .filter((v) => matchesLabels(v.labels, labelFilters))
        .map((v): VolumeInfo => ({ name: v.name, labels: { ...v.labels } }));
    },

    async removeVolume(name) {
      enter('removeVolume', [name]);
      if (!volumes.has(name)) return;
      const user = [...containers.values()].find((c) => c.spec.configVolume === name);
      if (user) throw httpError(409, `remove ${name}: volume is in use - [${user.id}]`);
      volumes.delete(name);
    },

    async logs(idOrName, tail) {
      enter('logs', [idOrName, tail]);
      const c = find(idOrName);
      if (!c) return null;
      if (tail <= 0) return '';
      const lines = c.logs.split(/(?<=\n)/);
      return lines.slice(-tail).join('');
    },

    async followLogs(idOrName, tail, onLine, onEnd) {
      enter('followLogs', [idOrName, tail]);
      const c = find(idOrName);
      if (!c) return null;
      const lines = c.logs.split('\n').slice(0, -1);
      for (const text of tail > 0 ? lines.slice(-tail) : []) onLine({ stream: 'stdout', text, timestamp: null });
      let open = true;
      const set = followers.get(c.id) ?? new Set();
      followers.set(c.id, set);
      const follower = {
        onLine,
        end: () => {
          if (!open) return;
          open = false;
          set.delete(follower);
          onEnd();
        },
      };
      set.add(follower);
      if (!c.running) follower.end();
      return {
        close() {
          open = false;
          set.delete(follower);
        },
      };
    },

    async imageExists(image) {
      enter('imageExists', [image]);
      return images ? images.has(image) : true;
    },

    async events(onEvent, onError): Promise<EventStreamHandle> {
      enter('events', []);
      const stream = { onEvent, onError };
      streams.add(stream);
      return { close: () => void streams.delete(stream) };
    },

    async hostCpuCount() {
      enter('hostCpuCount', []);
      return cpuCount;
    },

    failNext(method, err = new RuntimeUnavailable(`injected failure (${method})`)) {
      const queue = failures.get(method) ?? [];
      queue.push(err);
      failures.set(method, queue);
    },

    setAvailable(value) {
      up = value;
      reachable = value;
      // A daemon going away takes its event streams with it.
      if (!value) runtime.breakEvents(new Error('fake runtime down'));
    },

    emit: deliver,

    exit(idOrName, exitCode = 0, exitOpts) {
      halt(mustFind(idOrName), exitCode, exitOpts?.oom);
    },

    breakEvents(err = new Error('fake event stream broken')) {
      const open = [...streams];
      streams.clear();
      for (const s of open) s.onError(err);
    },

    find,

    readFile(idOrName, path) {
      const c = find(idOrName);
      return c ? fileStore(c, path)?.get(path) : undefined;
    },

    appendLog(idOrName, text, stream = 'stdout') {
      const c = mustFind(idOrName);
      // Followers get the lines this text completes (the fake keeps no partial line per stream).
      const before = c.logs.split('\n').length - 1;
      c.logs += text;
      const lines = c.logs.split('\n').slice(before, -1);
      for (const f of [...(followers.get(c.id) ?? [])]) for (const line of lines) f.onLine({ stream, text: line, timestamp: new Date() });
    },

    openEventStreams: () => streams.size,

    openLogFollowers: () => [...followers.values()].reduce((n, set) => n + set.size, 0),
  };
  return runtime;
}
