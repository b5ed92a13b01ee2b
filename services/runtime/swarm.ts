// ContainerRuntime on a Docker Swarm manager (CONTAINER_RUNTIME=swarm; API.md "On Docker Swarm").
// The provisioner, lifecycle and sweepers above the interface are unchanged; this is how each of
// their steps maps onto Swarm:
//
//   create(spec)    one service `ws-<12>`, ONE replica but created at zero (no task yet), restart
//                   condition none, the container labels (+ deployment) on the service and on its
//                   container spec, SWARM_PLACEMENT constraints, tier CPU/memory as limits AND
//                   reservations capped at the largest node the constraints allow, the image pinned
//                   so that no registry can stall a task (swarm-spec.ts pinImage). Name taken → 409 →
//                   ContainerNameConflict, so the provisioner's generation guard works as on Docker.
//   writeFile       the token becomes a secret `ws-<12>-token-<generation>` carrying the service's four
//                   labels, attached to the service at /configs/.auth_token, 0600, 0:0. No volume.
//   start           scales to one and waits (bounded) for the task to run or fail, so a missing image
//                   fails provisioning with "workspace image not found" as on Docker.
//   stop            scales to zero (not meant to run from then on; Swarm signals the task ~2-3 s later).
//   remove          removes the service, then its secrets (so a restart leaves no older secret).
//   inspect / list  one ContainerInfo per service: its current task's container (id, name
//                   `ws-<12>.1.<task>`), running only while the task runs on a READY node. So "a
//                   workspace with a service counts as having a container" for the sweepers, and the
//                   health sweep sees a task on a dead node as dead without knowing about nodes.
//   listVolumes /   the per-workspace config storage is the token secrets: listVolumes lists labeled
//   removeVolume    secrets, removeVolume removes one by name, and `ws-<12>-configs` (the volume name
//                   the lifecycle and sweeper compute) removes every labeled secret of that workspace.
//                   Secrets in use by a service cannot be removed (the daemon refuses); unlabeled ones
//                   are never listed. Older-generation secrets of a live workspace are removed by the
//                   service removal that ends their generation (and, should that fail, by the orphan
//                   sweeper's superseded-secrets pass).
//   events          polled task deaths (swarm-events.ts): the manager has no task events.
//   logs            service logs, through the manager, from whichever node runs the task; a followed
//                   log ends when the task is over or its node is lost (swarm-logs.ts).
// Ids: a ContainerInfo id is the task's container id (64 hex) once there is one; every method also
// takes it, and finds the service through the task (remembered from listings, else one task listing).
// A daemon that answers but is not a manager (or has no quorum) counts as no runtime.
import type Docker from 'dockerode';
import { STREAM_SYSTEM_ERROR, asBuffer, splitLogFrames } from './docker-archive.js';
import { API_TIMEOUT_MS, dockerClient, errorMessage, isConnectionError, parseDockerHost, statusOf, type DockerTls } from './docker-connection.js';
import type { RuntimeLog } from './docker.js';
import { openTaskDeathStream } from './swarm-events.js';
import { followServiceLogs } from './swarm-logs.js';
import { containerInfoOf, currentTask, nodeMap, taskHealth, tasksByService, type SwarmService, type SwarmTask, type TaskHealth } from './swarm-model.js';
import { largestAllowedNode, parseConstraint, type Capacity, type SwarmNode } from './swarm-placement.js';
import { createSecretStore, type SecretInfo } from './swarm-secrets.js';
import { LABEL_DEPLOYMENT, pinImage, serviceSpecFor } from './swarm-spec.js';
import { createServiceResolver } from './swarm-ids.js';
import { createServiceUpdater, waitForRunning } from './swarm-tasks.js';
import { ContainerNameConflict, LABEL_MANAGED, LABEL_WORKSPACE_ID, RuntimeUnavailable, containerNameFor, type ContainerInfo, type ContainerRuntime, type VolumeInfo } from './types.js';

export interface SwarmRuntimeOptions {
  /** DOCKER_HOST of a Swarm manager. */
  dockerHost?: string;
  /** DOCKER_TLS_VERIFY's certificates (config.dockerTls), for a manager on tcp://. */
  dockerTls?: DockerTls | null;
  log?: RuntimeLog;
  /** SWARM_PLACEMENT expressions (validated by config). */
  placement?: readonly string[];
  /** Added to the labels of every service, container spec and secret when the spec lacks it. */
  deploymentId?: string;
  /** events(): how often the fleet is polled for task deaths (default 2 s). */
  eventPollMs?: number;
  /** start(): how long to wait for the task to run or fail before leaving it to the sweeps (default 3 s). */
  startWaitMs?: number;
}

export interface SwarmRuntime extends ContainerRuntime {
  readonly kind: 'swarm';
  /** Every task of this server's services with its node's state, in two calls (tasks, nodes). */
  fleetHealth(): Promise<TaskHealth[]>;
  listSecrets(labelFilters: string[]): Promise<SecretInfo[]>;
  /** Already gone is success; a secret in use by a service is refused by the daemon (throws). */
  removeSecret(name: string): Promise<void>;
}

const NODE_CACHE_MS = 10_000;
const silentLog: RuntimeLog = { warn() {}, info() {} };

type State = 'unknown' | 'manager' | 'not-manager' | 'unreachable';

export function createSwarmRuntime(opts: SwarmRuntimeOptions = {}): SwarmRuntime {
  const log = opts.log ?? silentLog;
  const conn = parseDockerHost(opts.dockerHost, opts.dockerTls);
  const api = dockerClient(conn, API_TIMEOUT_MS);
  // Followed logs stay open as long as the task writes: no per-call timeout on that client.
  const streamApi = dockerClient(conn, undefined);
  const constraintExprs = [...(opts.placement ?? [])];
  const constraints = constraintExprs.map(parseConstraint);
  const managedFilter = [`${LABEL_MANAGED}=true`, ...(opts.deploymentId ? [`${LABEL_DEPLOYMENT}=${opts.deploymentId}`] : [])];
  let state: State = 'unknown';
  let nodesCache: { at: number; nodes: Promise<SwarmNode[]> } | null = null;
  const ids = createServiceResolver(api);

  function setState(next: State, why?: string): void {
    if (next === state) return;
    if (next === 'not-manager') log.warn({ dockerHost: opts.dockerHost, reason: why }, 'CONTAINER_RUNTIME=swarm: the Docker daemon answers but is not a Swarm manager (or its swarm has no leader); container workspaces cannot run until DOCKER_HOST names a manager');
    else if (next === 'unreachable') log.warn({ err: why }, 'container runtime unreachable');
    else if (next === 'manager' && state !== 'unknown') log.info('Swarm manager reachable again');
    state = next;
  }

  /** One daemon call: "no daemon" and "not a manager" (503) both become RuntimeUnavailable. */
  async function call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      setState('manager');
      return result;
    } catch (err) {
      if (err instanceof RuntimeUnavailable) throw err;
      if (isConnectionError(err)) {
        setState('unreachable', errorMessage(err));
        throw new RuntimeUnavailable(`swarm ${op}: ${errorMessage(err)}`, { cause: err });
      }
      if (statusOf(err) === 503) {
        setState('not-manager', errorMessage(err));
        throw new RuntimeUnavailable(`swarm ${op}: the daemon is not a usable Swarm manager`, { cause: err });
      }
      if (statusOf(err) !== undefined) setState('manager');
      throw err;
    }
  }

  async function inspectService(ref: string): Promise<SwarmService | null> {
    try {
      return (await api.getService(ref).inspect()) as SwarmService;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  function nodes(fresh: boolean): Promise<SwarmNode[]> {
    if (fresh || !nodesCache || Date.now() - nodesCache.at > NODE_CACHE_MS) {
      const p = api.listNodes() as Promise<SwarmNode[]>;
      nodesCache = { at: Date.now(), nodes: p };
      p.catch(() => (nodesCache = null));
    }
    return nodesCache.nodes;
  }

  async function capacity(): Promise<Capacity | null> {
    return largestAllowedNode(await nodes(false), constraints);
  }

  const updater = createServiceUpdater(api);
  const secrets = createSecretStore(api, updater, managedFilter, log);

  async function describe(services: SwarmService[], tasks: SwarmTask[], nodeList: SwarmNode[]): Promise<ContainerInfo[]> {
    const byService = tasksByService(tasks);
    const byId = nodeMap(nodeList);
    return services.map((s) => ids.remember(containerInfoOf(s, currentTask(byService.get(s.ID) ?? []), byId), s.ID));
  }

  async function withService<T>(op: string, idOrName: string, onMissing: () => T, fn: (s: SwarmService) => Promise<T>): Promise<T> {
    return call(op, async () => {
      const ref = await ids.serviceRef(idOrName);
      const service = ref ? await inspectService(ref) : null;
      return service ? fn(service) : onMissing();
    });
  }

  const notFound = (what: string) => (): never => {
    throw Object.assign(new Error(`no such service: ${what}`), { statusCode: 404 });
  };

  async function fleetHealth(): Promise<TaskHealth[]> {
    return call('fleetHealth', async () => {
      const [tasks, nodeList] = await Promise.all([api.listTasks({ filters: { label: managedFilter } }) as Promise<SwarmTask[]>, nodes(true)]);
      const byId = nodeMap(nodeList);
      // A task names only its service's id; ours are named after the workspace (containerNameFor).
      return tasks.map((t) => {
        const id = t.Spec?.ContainerSpec?.Labels?.[LABEL_WORKSPACE_ID];
        return taskHealth(t, id ? containerNameFor(id) : t.ServiceID, byId);
      });
    });
  }

  const runtime: SwarmRuntime = {
    kind: 'swarm',

    available: () => state === 'manager',

    async ping() {
      try {
        await call('ping', () => api.swarmInspect());
        return true;
      } catch (err) {
        if (!(err instanceof RuntimeUnavailable)) setState('not-manager', errorMessage(err));
        return false;
      }
    },

    create: (spec) =>
      call('create', async () => {
        const [image, cap] = await Promise.all([pinImage(api, spec.image), capacity()]);
        const body = serviceSpecFor({ spec, image, constraints: constraintExprs, capacity: cap, deploymentId: opts.deploymentId });
        try {
          // No registry credentials: with the one-argument form, dockerode would send the whole spec
          // (environment included) as the X-Registry-Auth header.
          return { id: (await api.createService(undefined as unknown as Docker.AuthConfig, body as Docker.ServiceSpec)).id };
        } catch (err) {
          if (statusOf(err) === 409) throw new ContainerNameConflict(spec.name, { cause: err });
          throw err;
        }
      }),

    writeFile: (idOrName, dir, fileName, content, mode) =>
      withService('writeFile', idOrName, notFound(idOrName), (s) => secrets.attach(s, dir, fileName, content, mode)),

    start: (idOrName) =>
      withService('start', idOrName, notFound(idOrName), async (s) => {
        if ((s.Spec?.Mode?.Replicated?.Replicas ?? 0) >= 1) return; // already started
        await updater.update(s, (spec) => ({ ...spec, Mode: { Replicated: { Replicas: 1 } } }));
        await waitForRunning(api, s.ID, opts.startWaitMs ?? 3_000);
      }),

    // Swarm stops the task itself: it waits about 2-3 s (measured) before it signals the container,
    // then allows the spec's grace period. The task is not meant to run from the moment of the update,
    // which is what inspect and list report; waiting for the process would only delay pause.
    stop: (idOrName) =>
      withService('stop', idOrName, () => undefined, async (s) => {
        if ((s.Spec?.Mode?.Replicated?.Replicas ?? 0) > 0) await updater.update(s, (spec) => ({ ...spec, Mode: { Replicated: { Replicas: 0 } } }));
      }),

    remove: (idOrName) =>
      withService('remove', idOrName, () => undefined, async (s) => {
        try {
          await api.getService(s.ID).remove();
        } catch (err) {
          if (statusOf(err) !== 404) throw err;
        }
        await secrets.removeAttached(s);
      }),

    inspect: (idOrName) =>
      withService('inspect', idOrName, () => null, async (s) => {
        const tasks = (await api.listTasks({ filters: { service: [s.ID] } })) as SwarmTask[];
        const task = currentTask(tasks);
        const node = task?.NodeID ? await api.getNode(task.NodeID).inspect().catch((err: unknown) => (statusOf(err) === 404 ? null : Promise.reject(err))) : null;
        return ids.remember(containerInfoOf(s, task, nodeMap(node ? [node as SwarmNode] : [])), s.ID);
      }),

    list: (labelFilters) =>
      call('list', async () => {
        const [services, tasks, nodeList] = await Promise.all([
          api.listServices({ filters: { label: labelFilters } }) as Promise<SwarmService[]>,
          api.listTasks({ filters: { label: labelFilters } }) as Promise<SwarmTask[]>,
          nodes(true),
        ]);
        return describe(services, tasks, nodeList);
      }),

    listByNamePrefix: (prefix) =>
      call('listByNamePrefix', async () => {
        const services = ((await api.listServices({ filters: { name: [prefix] } })) as SwarmService[]).filter((s) => (s.Spec?.Name ?? '').startsWith(prefix));
        if (services.length === 0) return [];
        const [tasks, nodeList] = await Promise.all([api.listTasks({ filters: { service: services.map((s) => s.ID) } }) as Promise<SwarmTask[]>, nodes(true)]);
        return describe(services, tasks, nodeList);
      }),

    listVolumes: (labelFilters) =>
      call('listVolumes', async () => (await secrets.list(labelFilters)).map((s): VolumeInfo => ({ name: s.name, labels: s.labels }))),

    removeVolume: (name) => call('removeVolume', () => secrets.removeVolume(name)),

    logs: (idOrName, tail) =>
      withService('logs', idOrName, () => null, async (s) => {
        const body: unknown = await api.getService(s.ID).logs({ stdout: true, stderr: true, follow: false, tail: Math.max(0, Math.floor(tail)) });
        const frames = splitLogFrames(asBuffer(body), STREAM_SYSTEM_ERROR);
        const text = Buffer.concat(frames.filter((f) => f.stream !== STREAM_SYSTEM_ERROR).map((f) => f.data)).toString('utf8');
        // The manager reports a node it cannot reach in-band; with nothing else read, there are no logs.
        const failure = frames.find((f) => f.stream === STREAM_SYSTEM_ERROR);
        if (failure && text === '') throw new Error(`swarm logs: ${failure.data.toString('utf8').trim()}`);
        return text;
      }),

    // The manager never ends a followed service log by itself: swarm-logs.ts watches the task.
    followLogs: (idOrName, tail, onLine, onEnd) =>
      withService('followLogs', idOrName, () => null, (s) => followServiceLogs({ api, streamApi }, s.ID, tail, onLine, onEnd)),

    async imageExists(image) {
      // An image is per node; this answers for the manager (placement decides where it must be).
      try {
        await api.getImage(image).inspect();
        return true;
      } catch (err) {
        if (statusOf(err) === 404) return false;
        if (isConnectionError(err)) throw new RuntimeUnavailable(`swarm imageExists: ${errorMessage(err)}`, { cause: err });
        throw err;
      }
    },

    events: (onEvent, onError) =>
      openTaskDeathStream(fleetHealth, opts.eventPollMs ?? 2_000, onEvent, onError, (o, m) => log.warn(o, m)),

    async hostCpuCount() {
      const cap = await call('hostCpuCount', capacity);
      return cap && cap.nanoCpus > 0 ? cap.nanoCpus / 1e9 : 1;
    },

    fleetHealth,
    listSecrets: (labelFilters) => call('listSecrets', () => secrets.list(labelFilters)),
    removeSecret: (name) => call('removeSecret', () => secrets.remove(name)),
  };
  // Probe at once: available() is truthful within milliseconds, and a daemon that is not a manager
  // is named in the log at start-up.
  void runtime.ping();
  return runtime;
}
