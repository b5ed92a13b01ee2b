// ContainerRuntime on the Docker Engine API (dockerode). The rules that matter to the reconcilers:
// a daemon that cannot be reached is RuntimeUnavailable (never "the container is gone"), and
// stop/remove of something already stopped or gone is success.
import type Docker from 'dockerode';
import { asBuffer, demuxDockerStream, singleFileTar } from './docker-archive.js';
import {
  API_TIMEOUT_MS,
  dockerClient,
  errorMessage,
  isConnectionError,
  parseDockerHost,
  statusOf,
  type DockerTls,
} from './docker-connection.js';
import { openEventStream } from './docker-events.js';
import { followContainerLogs } from './docker-logs.js';
import { createHostWriter } from './docker-host-write.js';
import {
  ContainerNameConflict,
  RuntimeUnavailable,
  type ContainerInfo,
  type ContainerRuntime,
  type ContainerSpec,
  type VolumeInfo,
} from './types.js';

export interface RuntimeLog {
  warn(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
}

export interface DockerRuntimeOptions {
  /** DOCKER_HOST: `unix:///path` or `tcp://127.0.0.1:2375`; unset = /var/run/docker.sock. */
  dockerHost?: string;
  /** DOCKER_TLS_VERIFY's certificates (config.dockerTls), for a tcp:// DOCKER_HOST. */
  dockerTls?: DockerTls | null;
  log?: RuntimeLog;
  /** Write files through a local volume's host directory where that is safe (docker-host-write.ts);
   * false always uploads an archive. Default true. */
  hostWrites?: boolean;
  /** Idle timeout of ordinary API calls (RUNTIME_TIMEOUT_MS); default API_TIMEOUT_MS. */
  timeoutMs?: number;
}

const CONFIG_MOUNT = '/configs';
/** Docker's "never started" timestamp. */
const ZERO_TIME = '0001-01-01T00:00:00Z';
const DEFAULT_STOP_TIMEOUT_S = 10;

const silentLog: RuntimeLog = { warn() {}, info() {} };

export function createDockerRuntime(opts: DockerRuntimeOptions = {}): ContainerRuntime {
  const log = opts.log ?? silentLog;
  const conn = parseDockerHost(opts.dockerHost, opts.dockerTls);
  const api = dockerClient(conn, opts.timeoutMs ?? API_TIMEOUT_MS);
  // Event streams stay silent for as long as nothing happens, so they get no idle timeout.
  const streamApi = dockerClient(conn, undefined);

  const hostWriter = opts.hostWrites === false ? null : createHostWriter(api, conn);
  // null = no answer yet; available() is false until the first call (the probe below) succeeds.
  let reachable: boolean | null = null;
  let cpuCount: Promise<number> | null = null;

  function markReachable() {
    if (reachable === false) log.info('container runtime reachable again');
    reachable = true;
  }

  function markUnreachable(err: unknown) {
    if (reachable !== false) log.warn({ err: errorMessage(err) }, 'container runtime unreachable');
    reachable = false;
  }

  /** Runs one daemon call, keeping available() current and mapping "no daemon" to RuntimeUnavailable. */
  async function call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      markReachable();
      return result;
    } catch (err) {
      if (err instanceof RuntimeUnavailable) throw err;
      if (isConnectionError(err)) {
        markUnreachable(err);
        throw new RuntimeUnavailable(`docker ${op}: ${errorMessage(err)}`, { cause: err });
      }
      // An HTTP error is still an answer: the daemon is there.
      if (statusOf(err) !== undefined) markReachable();
      throw err;
    }
  }

  /** Awaits `p`, treating the listed HTTP statuses as success (idempotent stop/remove). */
  async function tolerate(p: Promise<unknown>, statuses: number[]): Promise<void> {
    try {
      await p;
    } catch (err) {
      const status = statusOf(err);
      if (status === undefined || !statuses.includes(status)) throw err;
    }
  }

  function hostCpuCount(): Promise<number> {
    cpuCount ??= call('info', async () => {
      const info = (await api.info()) as { NCPU?: number };
      return info.NCPU && info.NCPU > 0 ? info.NCPU : 1;
    }).catch((err: unknown) => {
      cpuCount = null; // retry on the next call rather than caching a failure
      throw err;
    });
    return cpuCount;
  }

  async function create(spec: ContainerSpec): Promise<{ id: string }> {
    return call('create', async () => {
      const cpus = spec.cpus > 0 ? Math.min(spec.cpus, await hostCpuCount()) : 0;
      const hostConfig: Docker.HostConfig = {
        Memory: spec.memoryBytes > 0 ? spec.memoryBytes : 0,
        NanoCpus: Math.round(cpus * 1e9),
        ReadonlyRootfs: spec.readOnlyRoot,
        RestartPolicy: { Name: 'no' },
        NetworkMode: spec.network,
        // A missing volume is created by the mount itself, with these labels: one daemon call fewer
        // on every (re)provisioning than inspecting it first, and atomic under concurrent creators.
        Mounts: [{ Type: 'volume', Source: spec.configVolume, Target: CONFIG_MOUNT, VolumeOptions: { Labels: spec.volumeLabels } as Docker.MountSettings['VolumeOptions'] }],
      };
      // A read-only root still needs somewhere to write scratch files.
      if (spec.readOnlyRoot) hostConfig.Tmpfs = { '/tmp': 'rw,nosuid,nodev,size=64m,mode=1777' };
      try {
        const container = await api.createContainer({
          name: spec.name,
          Image: spec.image,
          Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
          Labels: spec.labels,
          ...(spec.entrypoint ? { Entrypoint: spec.entrypoint, Cmd: [] } : {}),
          HostConfig: hostConfig,
        });
        return { id: container.id };
      } catch (err) {
        if (statusOf(err) === 409) throw new ContainerNameConflict(spec.name, { cause: err });
        throw err;
      }
    });
  }

  const runtime: ContainerRuntime = {
    kind: 'docker',

    available: () => reachable === true,

    async ping() {
      try {
        await call('ping', () => api.ping());
        return true;
      } catch (err) {
        // A daemon answering the ping with an error is not usable either.
        if (!(err instanceof RuntimeUnavailable)) markUnreachable(err);
        return false;
      }
    },

    create,

    start: (idOrName) =>
      // 304: already running.
      call('start', () => tolerate(api.getContainer(idOrName).start(), [304])),

    stop: (idOrName, timeoutSeconds = DEFAULT_STOP_TIMEOUT_S) =>
      call('stop', () => {
        // The daemon answers only once the grace period is over, so the idle timeout must outlast it.
        const client = dockerClient(conn, timeoutSeconds * 1000 + (opts.timeoutMs ?? API_TIMEOUT_MS));
        return tolerate(client.getContainer(idOrName).stop({ t: timeoutSeconds }), [304, 404]);
      }),

    remove: (idOrName, removeOpts) =>
      // 409 "removal already in progress": someone else is removing it, which is what we want.
      call('remove', () =>
        tolerate(api.getContainer(idOrName).remove({ force: removeOpts?.force ?? false, v: false }), [404, 409]),
      ),

    inspect: (idOrName) =>
      call('inspect', async () => {
        try {
          return infoFromInspect(await api.getContainer(idOrName).inspect());
        } catch (err) {
          if (statusOf(err) === 404) return null;
          throw err;
        }
      }),

    list: (labelFilters) =>
      call('list', async () => {
        const rows = await api.listContainers({ all: true, filters: { label: labelFilters } });
        return rows.map(infoFromListRow);
      }),

    listByNamePrefix: (prefix) =>
      call('listByNamePrefix', async () => {
        // Docker's name filter is an unanchored regular expression over "/name"; anchor and escape it,
        // then check exactly, so `wsx-…` or `my-ws-…` never pass for `ws-`.
        const rows = await api.listContainers({ all: true, filters: { name: [`^/${escapeRegExp(prefix)}`] } });
        return rows.map(infoFromListRow).filter((c) => c.name.startsWith(prefix));
      }),

    writeFile: (idOrName, dir, fileName, content, mode) =>
      call('writeFile', async () => {
        if (hostWriter && (await hostWriter.write(idOrName, dir, fileName, content, mode))) return;
        const archive = await singleFileTar(fileName, content, mode);
        await api.getContainer(idOrName).putArchive(archive, { path: dir });
      }),

    listVolumes: (labelFilters) =>
      call('listVolumes', async () => {
        const res = await api.listVolumes({ filters: { label: labelFilters } });
        return (res.Volumes ?? []).map((v): VolumeInfo => ({ name: v.Name, labels: v.Labels ?? {} }));
      }),

    removeVolume: (name) => call('removeVolume', () => tolerate(api.getVolume(name).remove(), [404])),

    logs: (idOrName, tail) =>
      call('logs', async () => {
        try {
          const body: unknown = await api
            .getContainer(idOrName)
            .logs({ stdout: true, stderr: true, follow: false, tail: Math.max(0, Math.floor(tail)) });
          return demuxDockerStream(asBuffer(body));
        } catch (err) {
          if (statusOf(err) === 404) return null;
          throw err;
        }
      }),

    // On the stream client: a quiet container must not look like a dead daemon.
    followLogs: (idOrName, tail, onLine, onEnd) => call('followLogs', () => followContainerLogs(streamApi, idOrName, tail, onLine, onEnd)),

    imageExists: (image) =>
      call('imageExists', async () => {
        try {
          await api.getImage(image).inspect();
          return true;
        } catch (err) {
          if (statusOf(err) === 404) return false;
          throw err;
        }
      }),

    events: (onEvent, onError) =>
      call('events', () => openEventStream(streamApi, onEvent, onError, (o, m) => log.warn(o, m))),

    hostCpuCount,
  };
  // Probe at once so available() is truthful within milliseconds even if nobody pings; callers that
  // need the answer before going on still `await ping()`.
  void runtime.ping();
  return runtime;
}

function infoFromInspect(c: Docker.ContainerInspectInfo): ContainerInfo {
  const started = c.State?.StartedAt;
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    image: c.Config?.Image ?? c.Image,
    running: c.State?.Running === true,
    startedAt: started && started !== ZERO_TIME ? new Date(started) : null,
    labels: c.Config?.Labels ?? {},
    state: c.State?.Status,
    exitCode: c.State?.Running || !started || started === ZERO_TIME ? null : c.State.ExitCode,
  };
}

function infoFromListRow(c: Docker.ContainerInfo): ContainerInfo {
  // A linked container also lists "/other/alias" names; the canonical one has a single segment.
  const names = (c.Names ?? []).map((n) => n.replace(/^\//, ''));
  return {
    id: c.Id,
    name: names.find((n) => !n.includes('/')) ?? names[0] ?? '',
    image: c.Image,
    running: c.State === 'running',
    startedAt: null,
    labels: c.Labels ?? {},
    state: c.State,
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
