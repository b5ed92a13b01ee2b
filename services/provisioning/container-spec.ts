// What a workspace's container looks like (API.md "Container contract"): name, labels, environment,
// tier limits, restart policy and network. Pure functions, so the contract can be read in one place.
import type { Config } from '../../config.js';
import {
  LABEL_DEPLOYMENT,
  LABEL_GENERATION,
  LABEL_MANAGED,
  LABEL_WORKSPACE_ID,
  configVolumeFor,
  containerNameFor,
  type ContainerSpec,
} from '../runtime/types.js';
import type { WorkspaceRecord } from '../workspaces/record.js';

export const CONFIG_DIR = '/configs';
export const TOKEN_FILE = '.auth_token';
export const TOKEN_FILE_MODE = 0o600;

const MIB = 1024 * 1024;

export interface TierLimits {
  memoryBytes: number;
  /** Requested CPUs; the runtime caps the request at the host's CPU count. */
  cpus: number;
  readOnlyRoot: boolean;
}

/** T1 is the locked-down class (read-only root); T2..T4 grow memory and CPU. */
export function tierLimits(tier: number): TierLimits {
  switch (tier) {
    case 1:
      return { memoryBytes: 512 * MIB, cpus: 0.5, readOnlyRoot: true };
    case 3:
      return { memoryBytes: 2048 * MIB, cpus: 2, readOnlyRoot: false };
    case 4:
      return { memoryBytes: 4096 * MIB, cpus: 4, readOnlyRoot: false };
    default:
      return { memoryBytes: 1024 * MIB, cpus: 1, readOnlyRoot: false };
  }
}

/** `image` wins over WORKSPACE_IMAGE_<RUNTIME> (upper-cased, `-` → `_`), which wins over WORKSPACE_IMAGE. */
export function imageFor(workspace: Pick<WorkspaceRecord, 'image' | 'runtime'>, config: Config): string {
  if (workspace.image) return workspace.image;
  const key = workspace.runtime.toUpperCase().replace(/-/g, '_');
  return config.runtimeImages[key] ?? config.workspaceImage;
}

/** Every resource a workspace gets carries these (API.md "Container contract"). */
export function workspaceLabels(workspaceId: string, deploymentId: string): Record<string, string> {
  return { [LABEL_MANAGED]: 'true', [LABEL_DEPLOYMENT]: deploymentId, [LABEL_WORKSPACE_ID]: workspaceId };
}

export function containerLabels(workspaceId: string, deploymentId: string, generation: number): Record<string, string> {
  return { ...workspaceLabels(workspaceId, deploymentId), [LABEL_GENERATION]: String(generation) };
}

/** The generation a container was provisioned for; null when it carries no (valid) label. */
export function generationOf(labels: Record<string, string>): number | null {
  const raw = labels[LABEL_GENERATION];
  if (raw === undefined || !/^[0-9]{1,10}$/.test(raw)) return null;
  return Number(raw);
}

export interface SpecInput {
  workspace: WorkspaceRecord;
  generation: number;
  secrets: Record<string, string>;
  config: Config;
  platformUrl: string;
  deploymentId: string;
}

export function containerSpecFor(input: SpecInput): ContainerSpec {
  const { workspace, generation, secrets, config } = input;
  const limits = tierLimits(workspace.tier);
  // The container's own variables come last: a secret can never shadow them (validation refuses
  // those names too, but the environment must not depend on that).
  const env: Record<string, string> = {
    ...secrets,
    WORKSPACE_ID: workspace.id,
    PLATFORM_URL: input.platformUrl,
    WORKSPACE_CONFIG_PATH: CONFIG_DIR,
    TIER: String(workspace.tier),
    HEARTBEAT_INTERVAL_S: String(config.heartbeatIntervalS),
  };
  return {
    name: containerNameFor(workspace.id),
    image: imageFor(workspace, config),
    env,
    labels: containerLabels(workspace.id, input.deploymentId, generation),
    configVolume: configVolumeFor(workspace.id),
    volumeLabels: workspaceLabels(workspace.id, input.deploymentId),
    memoryBytes: limits.memoryBytes,
    cpus: limits.cpus,
    readOnlyRoot: limits.readOnlyRoot,
    network: config.dockerNetwork,
  };
}
