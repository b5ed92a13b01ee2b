// What a workspace's service and token secret look like on Swarm (API.md "On Docker Swarm"): the
// ContainerSpec the provisioner builds, turned into a service spec. Pure, apart from pinImage.
import type Docker from 'dockerode';
import { statusOf } from './docker-connection.js';
import { LABEL_IMAGE, type SwarmServiceSpec } from './swarm-model.js';
import type { Capacity } from './swarm-placement.js';
import { LABEL_GENERATION, LABEL_MANAGED, LABEL_WORKSPACE_ID, type ContainerSpec } from './types.js';

/** The deployment label (API.md "Container contract"); the same key the Docker runtime will carry. */
export const LABEL_DEPLOYMENT = 'molecule.platform.deployment';

/** Docker's default grace between SIGTERM and SIGKILL, also used when a service is removed. */
export const DEFAULT_STOP_GRACE_S = 10;
const TMP_BYTES = 64 * 1024 * 1024;

export interface ServiceSpecInput {
  spec: ContainerSpec;
  /** What the task runs: the reference pinned by pinImage. */
  image: string;
  constraints: readonly string[];
  /** The largest node the constraints allow; null = unknown (no cap). */
  capacity: Capacity | null;
  deploymentId?: string;
}

/** The container labels, plus the deployment when this runtime knows it and the spec does not. */
export function labelsFor(spec: ContainerSpec, deploymentId: string | undefined): Record<string, string> {
  return deploymentId && !spec.labels[LABEL_DEPLOYMENT] ? { ...spec.labels, [LABEL_DEPLOYMENT]: deploymentId } : { ...spec.labels };
}

function capped(requested: number, cap: number | undefined): number {
  if (requested <= 0) return 0;
  return cap && cap > 0 ? Math.min(requested, cap) : requested;
}

/**
 * One replica, created at zero: the token secret must be attached before the task may start
 * (writeFile, then start). Tier CPU and memory are both limits and reservations, so the scheduler
 * only places a workspace where its share is free.
 */
export function serviceSpecFor(input: ServiceSpecInput): SwarmServiceSpec {
  const { spec, capacity } = input;
  const labels = labelsFor(spec, input.deploymentId);
  const nanoCpus = Math.round(capped(spec.cpus * 1e9, capacity?.nanoCpus));
  const memoryBytes = Math.round(capped(spec.memoryBytes, capacity?.memoryBytes));
  const resources = { ...(nanoCpus > 0 ? { NanoCPUs: nanoCpus } : {}), ...(memoryBytes > 0 ? { MemoryBytes: memoryBytes } : {}) };
  return {
    Name: spec.name,
    Labels: { ...labels, [LABEL_IMAGE]: spec.image },
    TaskTemplate: {
      ContainerSpec: {
        Image: input.image,
        Labels: labels,
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        // Swarm's Command is Docker's Entrypoint.
        ...(spec.entrypoint ? { Command: spec.entrypoint, Args: [] } : {}),
        ReadOnly: spec.readOnlyRoot,
        // A read-only root still needs somewhere to write scratch files.
        Mounts: spec.readOnlyRoot ? [{ Type: 'tmpfs', Target: '/tmp', TmpfsOptions: { SizeBytes: TMP_BYTES, Mode: 0o1777 } }] : [],
        StopGracePeriod: DEFAULT_STOP_GRACE_S * 1e9,
      },
      Resources: { Limits: resources, Reservations: resources },
      // The server alone decides when a workspace runs again.
      RestartPolicy: { Condition: 'none' },
      Placement: { Constraints: [...input.constraints] },
      Networks: [{ Target: spec.network }],
    },
    Mode: { Replicated: { Replicas: 0 } },
  };
}

/** `ws-<12>-token-<generation>` for the token file; other files get their own sanitized name. */
export function secretNameFor(serviceName: string, fileName: string, generation: string): string {
  const part = fileName === '.auth_token' ? 'token' : fileName.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'file';
  return `${serviceName}-${part}-${generation}`;
}

/** A secret carries the service's four labels (managed, deployment, workspace id, generation). */
export function secretLabelsOf(serviceLabels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of [LABEL_MANAGED, LABEL_DEPLOYMENT, LABEL_WORKSPACE_ID, LABEL_GENERATION]) {
    if (serviceLabels[key] !== undefined) out[key] = serviceLabels[key];
  }
  return out;
}

const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;

/**
 * What the service runs, so that no registry can stall a task. A task given a tag first tries to pull
 * it on its node, and runs the local image only after that pull fails: measured here, 25 s in
 * `preparing` against a registry that accepts connections and never answers (10 s TLS handshake
 * timeout, then 15 s on plain HTTP), on every start. A task given an image id never pulls: it runs the
 * node's copy, or is rejected at once ("No such image") on a node without one. So:
 *   - an id or a digest reference is kept as is;
 *   - a tag the manager has is pinned: to the registry digest the manager pulled it by (nodes that have
 *     that digest skip the pull, others pull exactly it), else to its image id (a local or loaded image);
 *   - a tag the manager does not have is left to the nodes to pull.
 */
export async function pinImage(api: Docker, ref: string): Promise<string> {
  if (IMAGE_ID.test(ref) || ref.includes('@')) return ref;
  let info: { Id?: string; RepoDigests?: string[] };
  try {
    info = (await api.getImage(ref).inspect()) as typeof info;
  } catch (err) {
    if (statusOf(err) === 404) return ref;
    throw err;
  }
  const repository = ref.replace(/:[^/:]+$/, '');
  const digest = (info.RepoDigests ?? []).find((d) => d.startsWith(`${repository}@`));
  return digest ?? info.Id ?? ref;
}
