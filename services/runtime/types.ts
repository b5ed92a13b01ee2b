// The seam between the domain and whatever runs containers. The domain never imports dockerode.
// Every method either succeeds or throws: a daemon error is an error, never "not running".

export const LABEL_MANAGED = 'molecule.platform.managed';
export const LABEL_WORKSPACE_ID = 'molecule.workspace.id';
export const LABEL_GENERATION = 'molecule.workspace.generation';

/** Thrown when no container runtime answers (no daemon, socket missing, connection refused). */
export class RuntimeUnavailable extends Error {
  constructor(message = 'container runtime unavailable', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeUnavailable';
  }
}

/**
 * Thrown by `create` when a container with that name already exists (a leftover of an earlier
 * generation, or a concurrent provisioner): the caller decides whether to remove it and retry.
 */
export class ContainerNameConflict extends Error {
  constructor(readonly containerName: string, options?: { cause?: unknown }) {
    super(`a container named ${containerName} already exists`, options);
    this.name = 'ContainerNameConflict';
  }
}

export interface ContainerSpec {
  name: string;
  image: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  /** Named volume mounted at /configs (created with `volumeLabels` when missing). */
  configVolume: string;
  volumeLabels: Record<string, string>;
  memoryBytes: number;
  /** Requested CPUs (0 = no limit); the runtime caps it at the host's CPU count. */
  cpus: number;
  readOnlyRoot: boolean;
  network: string;
  /** Overrides the image's entrypoint (tests, diagnostics). Workspaces use the image's own. */
  entrypoint?: string[];
}

export interface ContainerInfo {
  id: string;
  /** Without Docker's leading slash. */
  name: string;
  image: string;
  running: boolean;
  /** From inspect only; list results carry null (the list API does not report it). */
  startedAt: Date | null;
  labels: Record<string, string>;
  /** The runtime's own state word (created, running, exited, dead, ...), when known. */
  state?: string;
  /** Exit code of the last run (inspect only; null while running or never started). */
  exitCode?: number | null;
}

export interface VolumeInfo {
  name: string;
  labels: Record<string, string>;
}

export type RuntimeEventAction = 'die' | 'oom' | 'stop' | 'start' | 'destroy';
export interface RuntimeEvent {
  action: RuntimeEventAction;
  containerId: string;
  name: string;
  labels: Record<string, string>;
  /** Present on `die` events. */
  exitCode?: number;
}

export type LogStreamName = 'stdout' | 'stderr';

/** One line of a container's output, without its line break. */
export interface LogLine {
  stream: LogStreamName;
  text: string;
  /** When the runtime recorded it, if it says. */
  timestamp: Date | null;
}

export interface LogFollower {
  /** Stops following and releases the stream; no callback fires after it. Idempotent. */
  close(): void;
}

export interface EventStreamHandle {
  /** Ends the stream. A close asked for by the caller does not fire onError (no reconnect wanted). */
  close(): void;
}

export interface ContainerRuntime {
  readonly kind: 'docker' | 'none' | 'fake';
  /** True when the runtime answered its last probe. Cheap; does not call the daemon. */
  available(): boolean;
  /** Asks the daemon; updates available(). */
  ping(): Promise<boolean>;
  create(spec: ContainerSpec): Promise<{ id: string }>;
  start(idOrName: string): Promise<void>;
  /** Already stopped or gone is success. */
  stop(idOrName: string, timeoutSeconds?: number): Promise<void>;
  /** Already gone is success. force kills a running container. */
  remove(idOrName: string, opts?: { force?: boolean }): Promise<void>;
  /** null when the container does not exist; throws on daemon errors. */
  inspect(idOrName: string): Promise<ContainerInfo | null>;
  /** All containers (running or not) carrying every given label (`key` or `key=value`). */
  list(labelFilters: string[]): Promise<ContainerInfo[]>;
  /** All containers whose name starts with `ws-` (labeled or not). */
  listByNamePrefix(prefix: string): Promise<ContainerInfo[]>;
  /** Writes a file into a created (not necessarily started) container, keeping `mode`. */
  writeFile(idOrName: string, dir: string, fileName: string, content: string, mode: number): Promise<void>;
  listVolumes(labelFilters: string[]): Promise<VolumeInfo[]>;
  /** Already gone is success. */
  removeVolume(name: string): Promise<void>;
  /** Recent output (stdout+stderr) or null when the container does not exist. */
  logs(idOrName: string, tail: number): Promise<string | null>;
  /**
   * Follows the container's output: the last `tail` lines, then each line as it is written, in order.
   * `onEnd` fires exactly once, when the output ends (the container stopped or was removed; at once for
   * a container that is not running) or the stream breaks (with the error), and never after close().
   * Resolves null when the container does not exist. Every follower must be closed or ended: each
   * holds a connection to the runtime.
   */
  followLogs(idOrName: string, tail: number, onLine: (line: LogLine) => void, onEnd: (err?: Error) => void): Promise<LogFollower | null>;
  imageExists(image: string): Promise<boolean>;
  /**
   * Streams container events carrying `molecule.platform.managed=true`. onError fires once when the
   * stream breaks; the caller reconnects.
   */
  events(onEvent: (e: RuntimeEvent) => void, onError: (err: Error) => void): Promise<EventStreamHandle>;
  hostCpuCount(): Promise<number>;
}

export function containerNameFor(workspaceId: string): string {
  return `ws-${workspaceId.slice(0, 12)}`;
}

export function configVolumeFor(workspaceId: string): string {
  return `${containerNameFor(workspaceId)}-configs`;
}
