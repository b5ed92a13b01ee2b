// What the Swarm end-to-end tests get from the project's global setup (swarm-global-setup.ts): the
// manager's and the worker's sockets and node ids, the manager's TLS endpoint and its certificates,
// and the worker's power switch.
import type Docker from 'dockerode';
import { inject } from 'vitest';
import { dockerClient, parseDockerHost } from '../../services/runtime/docker-connection.js';
import type { SwarmHarness } from './swarm-script.js';
import {
  LABEL_DEPLOYMENT,
  LABEL_GENERATION,
  LABEL_MANAGED,
  LABEL_WORKSPACE_ID,
  containerNameFor,
  type ContainerRuntime,
  type ContainerSpec,
} from '../../services/runtime/types.js';

export { killWorker, startWorker, type SwarmHarness, type UpSwarm } from './swarm-script.js';

declare module 'vitest' {
  export interface ProvidedContext {
    swarm: SwarmHarness;
  }
}

export function swarmHarness(): SwarmHarness {
  const h = inject('swarm');
  // Visible in the run's output, beside the skipped tests.
  if (!h.available) console.warn(`Swarm end-to-end tests skipped: the two-node swarm did not start:\n${h.reason}`);
  return h;
}

/** The raw client of one node's daemon, for checks the runtime does not expose. */
export function nodeClient(dockerHost: string) {
  return dockerClient(parseDockerHost(dockerHost), 30_000);
}

/** Marks what one test file creates on the swarm, so that its cleanup finds it even after a failure. */
export const LABEL_TEST_RUN = 'molecule.test.run';

/**
 * A workspace's ContainerSpec as the provisioner builds it for Swarm (no config volume, host network),
 * labeled with the test run. `entrypoint` replaces the agent with a script (e.g. a steady writer).
 */
export function swarmWorkspaceSpec(workspaceId: string, generation: number, runId: string, overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name: containerNameFor(workspaceId),
    image: 'workspace-agent:latest',
    env: { WORKSPACE_ID: workspaceId, PLATFORM_URL: 'http://127.0.0.1:9', HEARTBEAT_INTERVAL_S: '30' },
    labels: { [LABEL_MANAGED]: 'true', [LABEL_WORKSPACE_ID]: workspaceId, [LABEL_GENERATION]: String(generation), [LABEL_TEST_RUN]: runId },
    configVolume: '',
    volumeLabels: {},
    memoryBytes: 64 * 1024 * 1024,
    cpus: 0.1,
    readOnlyRoot: false,
    network: 'host',
    ...overrides,
  };
}

/** What the provisioner does on any runtime: create → token file → start. Answers the create's id. */
export async function provisionOn(rt: ContainerRuntime, spec: ContainerSpec, token: string): Promise<string> {
  const { id } = await rt.create(spec);
  await rt.writeFile(id, '/configs', '.auth_token', token, 0o600);
  await rt.start(id);
  return id;
}

/** Removes every service and secret labeled with the deployment. */
export async function removeDeploymentResources(manager: Docker, deploymentId: string): Promise<void> {
  const filters = { label: [`${LABEL_DEPLOYMENT}=${deploymentId}`] };
  for (const s of (await manager.listServices({ filters }).catch(() => [])) as Array<{ ID: string }>) await manager.getService(s.ID).remove().catch(() => {});
  for (const s of (await manager.listSecrets({ filters }).catch(() => [])) as Array<{ ID: string }>) await manager.getSecret(s.ID).remove().catch(() => {});
}

/** Removes the services a test run labeled, and every service and secret of a deployment (afterAll). */
export async function removeTestServices(manager: Docker, runId: string, deploymentId?: string): Promise<void> {
  for (const s of (await manager.listServices({ filters: { label: [`${LABEL_TEST_RUN}=${runId}`] } }).catch(() => [])) as Array<{ ID: string }>) {
    await manager.getService(s.ID).remove().catch(() => {});
  }
  if (deploymentId) await removeDeploymentResources(manager, deploymentId);
}
