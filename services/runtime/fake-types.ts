// The shapes of the in-memory runtime (fake.ts), apart so tests can import them without the logic.
import type { ContainerRuntime, ContainerSpec, RuntimeEvent } from './types.js';

export type RuntimeMethod = Exclude<keyof ContainerRuntime, 'kind' | 'available'>;

export interface FakeFile {
  content: string;
  mode: number;
}

export interface FakeContainer {
  id: string;
  name: string;
  spec: ContainerSpec;
  /** spec.cpus capped at the fake host's CPU count, as the Docker runtime does. */
  effectiveCpus: number;
  running: boolean;
  startedAt: Date | null;
  exitCode: number | null;
  /** Files written outside /configs (those live in the volume). Keyed by absolute path. */
  files: Map<string, FakeFile>;
  logs: string;
}

export interface FakeVolume {
  name: string;
  labels: Record<string, string>;
  files: Map<string, FakeFile>;
}

export interface FakeRuntimeOptions {
  /** Host CPU count reported by hostCpuCount(); default 2. */
  cpuCount?: number;
  /** Images that exist; unset = every image exists. */
  images?: string[];
}

export interface FakeRuntime extends ContainerRuntime {
  readonly kind: 'fake';
  /** By container id. */
  readonly containers: Map<string, FakeContainer>;
  readonly volumes: Map<string, FakeVolume>;
  /** Every call, in order, with its arguments. */
  readonly calls: Array<{ method: RuntimeMethod; args: unknown[] }>;
  /** The next call of `method` throws `err` (default RuntimeUnavailable). Queues when called again. */
  failNext(method: RuntimeMethod, err?: Error): void;
  /** false = the daemon is down: open event streams break, and every call throws RuntimeUnavailable until true. */
  setAvailable(up: boolean): void;
  /** Delivers an event to every open stream as is (no label filter). */
  emit(event: RuntimeEvent): void;
  /** The container's process ends: not running, exit code set, `die` (and `oom` first if asked). */
  exit(idOrName: string, exitCode?: number, opts?: { oom?: boolean }): void;
  /** Breaks every open event stream: each onError fires once. */
  breakEvents(err?: Error): void;
  find(idOrName: string): FakeContainer | undefined;
  /** A file as the container would see it (/configs/... resolves to the config volume). */
  readFile(idOrName: string, path: string): FakeFile | undefined;
  /** Appends output (stdout unless said otherwise); followers get each completed line. */
  appendLog(idOrName: string, text: string, stream?: 'stdout' | 'stderr'): void;
  openEventStreams(): number;
  /** Log followers not yet closed or ended. */
  openLogFollowers(): number;
}
