// What the manager answers about services, tasks and nodes, and how it becomes the runtime's view:
// one ContainerInfo per service, describing its current task's container, and one TaskHealth per
// task. The rule that matters to the reconcilers: a task counts as running only while the manager
// says so AND its node is ready. A node that dies takes its tasks with it, but the manager keeps
// reporting them "running" (it cannot hear from them any more), so the node is trusted over the task.
import type { SwarmNode } from './swarm-placement.js';
import { LABEL_GENERATION, LABEL_WORKSPACE_ID, type ContainerInfo } from './types.js';

/** Set on the service only: the image reference as asked for (the spec may hold a pinned id). */
export const LABEL_IMAGE = 'molecule.workspace.image';

export interface SwarmTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  DesiredState?: string;
  Version?: { Index?: number };
  Spec?: { ContainerSpec?: { Labels?: Record<string, string> } };
  Status?: {
    State?: string;
    Timestamp?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
}

export interface SwarmSecretRef {
  SecretID?: string;
  SecretName?: string;
  File?: { Name?: string; UID?: string; GID?: string; Mode?: number };
}

export interface SwarmServiceSpec {
  Name?: string;
  Labels?: Record<string, string>;
  TaskTemplate?: {
    ContainerSpec?: { Image?: string; Labels?: Record<string, string>; Secrets?: SwarmSecretRef[]; StopGracePeriod?: number; [k: string]: unknown };
    [k: string]: unknown;
  };
  Mode?: { Replicated?: { Replicas?: number } };
  [k: string]: unknown;
}

export interface SwarmService {
  ID: string;
  Version?: { Index?: number };
  Spec?: SwarmServiceSpec;
}

/** A task's health as the manager and its node's state report it (fleetHealth). */
export interface TaskHealth {
  taskId: string;
  serviceId: string;
  /** From the container labels; null for a task without a valid workspace label. */
  workspaceId: string | null;
  generation: number | null;
  containerId: string | null;
  containerName: string;
  labels: Record<string, string>;
  /** Swarm's task state: new, pending, assigned, accepted, preparing, starting, running, complete, failed, rejected, shutdown, orphaned, remove. */
  state: string;
  desiredState: string;
  nodeId: string | null;
  /** The node's state (ready, down, disconnected, unknown); "unknown" when the node is gone from the list. */
  nodeState: string;
  /** Running by the task's state and desired state, on a ready node. */
  running: boolean;
  /** The task's error (e.g. "No such image: …", "task: non-zero exit (1)"), when it has one. */
  error: string | null;
  exitCode: number | null;
}

const TERMINAL = new Set(['complete', 'failed', 'rejected', 'shutdown', 'orphaned', 'remove']);

export function isTerminal(state: string): boolean {
  return TERMINAL.has(state);
}

function generationFrom(labels: Record<string, string>): number | null {
  const raw = labels[LABEL_GENERATION];
  return raw !== undefined && /^[0-9]{1,10}$/.test(raw) ? Number(raw) : null;
}

/** The service's current task: the newest one meant to run, else the newest of all; null if none. */
export function currentTask(tasks: readonly SwarmTask[]): SwarmTask | null {
  const newest = (list: readonly SwarmTask[]) =>
    list.reduce<SwarmTask | null>((best, t) => (!best || (t.Version?.Index ?? 0) > (best.Version?.Index ?? 0) ? t : best), null);
  return newest(tasks.filter((t) => t.DesiredState === 'running')) ?? newest(tasks);
}

export function nodeStateOf(nodes: ReadonlyMap<string, SwarmNode>, nodeId: string | undefined): string {
  return (nodeId && nodes.get(nodeId)?.Status?.State) || 'unknown';
}

function taskRunning(task: SwarmTask, nodeState: string): boolean {
  return task.Status?.State === 'running' && task.DesiredState === 'running' && nodeState === 'ready';
}

function containerNameOf(serviceName: string, task: SwarmTask): string {
  return `${serviceName}.${task.Slot ?? 1}.${task.ID}`;
}

export function taskHealth(task: SwarmTask, serviceName: string, nodes: ReadonlyMap<string, SwarmNode>): TaskHealth {
  const labels = task.Spec?.ContainerSpec?.Labels ?? {};
  const state = task.Status?.State ?? 'unknown';
  const nodeState = nodeStateOf(nodes, task.NodeID);
  return {
    taskId: task.ID,
    serviceId: task.ServiceID,
    workspaceId: labels[LABEL_WORKSPACE_ID] ?? null,
    generation: generationFrom(labels),
    containerId: task.Status?.ContainerStatus?.ContainerID || null,
    containerName: containerNameOf(serviceName, task),
    labels,
    state,
    desiredState: task.DesiredState ?? 'unknown',
    nodeId: task.NodeID || null,
    nodeState,
    running: taskRunning(task, nodeState),
    error: task.Status?.Err || null,
    // A rejected task never had a container: its zero exit code means nothing.
    exitCode: isTerminal(state) && task.Status?.ContainerStatus?.ContainerID ? (task.Status.ContainerStatus.ExitCode ?? null) : null,
  };
}

/**
 * The service as the runtime's ContainerInfo: id and name of its current task's container (the
 * service's own id and name before it has one), the container labels, and the running rule above.
 * A service without a workspace label keeps its service name, so that the sweepers' name rule
 * (exactly `ws-<12>`) applies to services as it does to containers.
 */
export function containerInfoOf(service: SwarmService, task: SwarmTask | null, nodes: ReadonlyMap<string, SwarmNode>): ContainerInfo {
  const spec = service.Spec ?? {};
  const serviceName = spec.Name ?? service.ID;
  const labels = { ...(spec.Labels ?? {}), ...(spec.TaskTemplate?.ContainerSpec?.Labels ?? {}) };
  delete labels[LABEL_IMAGE];
  const image = spec.Labels?.[LABEL_IMAGE] ?? spec.TaskTemplate?.ContainerSpec?.Image ?? '';
  if (!task) return { id: service.ID, name: serviceName, image, running: false, startedAt: null, labels, state: 'created', exitCode: null };
  const health = taskHealth(task, serviceName, nodes);
  return {
    id: health.containerId ?? service.ID,
    name: labels[LABEL_WORKSPACE_ID] ? health.containerName : serviceName,
    image,
    running: health.running,
    // The task's last status change; while it runs, that is when it started running.
    startedAt: health.running && task.Status?.Timestamp ? new Date(task.Status.Timestamp) : null,
    labels,
    state: health.state === 'running' && health.nodeState !== 'ready' ? `node ${health.nodeState}` : health.state,
    exitCode: health.exitCode,
  };
}

export function nodeMap(nodes: readonly SwarmNode[]): Map<string, SwarmNode> {
  return new Map(nodes.map((n) => [n.ID, n]));
}

export function tasksByService(tasks: readonly SwarmTask[]): Map<string, SwarmTask[]> {
  const by = new Map<string, SwarmTask[]>();
  for (const t of tasks) {
    const list = by.get(t.ServiceID);
    if (list) list.push(t);
    else by.set(t.ServiceID, [t]);
  }
  return by;
}
