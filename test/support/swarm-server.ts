// A real server on the two-node swarm (CONTAINER_RUNTIME=swarm, DOCKER_HOST = the manager, the
// reference agent on the host network so that it reaches the loopback server), and what the Swarm
// end-to-end tests look at from outside the server: the services, secrets and tasks of a workspace
// as the manager reports them, and the token inside a task's container.
import { LABEL_WORKSPACE_ID, containerNameFor } from '../../services/runtime/types.js';
import { captureLog } from './log-capture.js';
import { eventsOf, eventually } from './lifecycle-fixtures.js';
import { startTestServer, type TestServer } from './server.js';
import { nodeClient, removeDeploymentResources, type UpSwarm } from './swarm.js';

export type { UpSwarm };

export interface SwarmServer extends TestServer {
  /** platform { deploymentId }: every service and secret of this server carries it. */
  deploymentId: string;
  /** The server's log messages (`msg`) at warn and above, in order. */
  warnings: string[];
}

/** Starts a server on a database of its own; `dockerHost` is normally the manager's socket. */
export async function startSwarmServer(dockerHost: string, env: Record<string, string> = {}): Promise<SwarmServer> {
  const log = captureLog('warn');
  const s = await startTestServer(
    {
      CONTAINER_RUNTIME: 'swarm',
      DOCKER_HOST: dockerHost,
      DOCKER_NETWORK: 'host',
      HEARTBEAT_INTERVAL_S: '1',
      // The tests poll status over HTTP from one address; the per-IP limit is tested elsewhere.
      RATE_LIMIT_PER_MIN: '1000000',
      ...env,
    },
    { log: log.logger },
  );
  return Object.assign(s, { deploymentId: s.services.deps.deploymentId, warnings: log.messages });
}

export const WORKSPACE = `query($id: ID!) { workspace(id: $id) { status lastSampleError container { id name image running startedAt } } }`;

/** Polls until the workspace has the status; on timeout the error carries its events. */
export async function reachStatus(s: TestServer, id: string, want: string, ms = 30_000): Promise<void> {
  let last = '';
  try {
    await eventually(async () => {
      last = (await s.gql(WORKSPACE, { id })).data?.workspace?.status;
      return last === want ? true : undefined;
    }, ms, `${id} to be ${want}`);
  } catch (err) {
    const events = (await eventsOf(s, id)).map((e) => `${e.type}${e.status ? `(${e.status})` : ''} ${JSON.stringify(e.payload)}`);
    throw new Error(`${String(err)} (last ${last})\nevents:\n  ${events.join('\n  ')}`);
  }
}

/** The manager's view of the swarm, by workspace or deployment label. */
export function swarmView(h: UpSwarm) {
  const manager = nodeClient(h.managerHost);
  const worker = nodeClient(h.workerHost);
  const byWorkspace = (id: string) => ({ label: [`${LABEL_WORKSPACE_ID}=${id}`] });

  async function runningTasks(workspaceId: string): Promise<any[]> {
    return manager.listTasks({ filters: { ...byWorkspace(workspaceId), 'desired-state': ['running'] } }) as Promise<any[]>;
  }

  /** The one task meant to run for the workspace, once its container runs. */
  async function runningTask(workspaceId: string): Promise<any> {
    return eventually(async () => {
      const tasks = await runningTasks(workspaceId);
      return tasks.length === 1 && tasks[0].Status?.State === 'running' ? tasks[0] : undefined;
    }, 15_000, `the running task of ${workspaceId}`);
  }

  /** Runs a command in a container of the task's node (TTY: the output is the command's, unframed). */
  async function execIn(nodeId: string, containerId: string, cmd: string[]): Promise<string> {
    const node = nodeId === h.workerNode ? worker : manager;
    const exec = await node.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: true });
    const stream = await exec.start({ Tty: true });
    return new Promise<string>((resolve, reject) => {
      let text = '';
      stream.on('data', (c: Buffer) => (text += c.toString()));
      stream.on('end', () => resolve(text));
      stream.on('error', reject);
    });
  }

  return {
    manager,
    worker,
    services: (workspaceId: string) => manager.listServices({ filters: byWorkspace(workspaceId) }) as Promise<any[]>,
    /** Names of the secrets labeled with the workspace, sorted. */
    async secretNames(workspaceId: string): Promise<string[]> {
      const secrets = (await manager.listSecrets({ filters: byWorkspace(workspaceId) })) as any[];
      return secrets.map((s) => s.Spec.Name as string).sort();
    },
    secret: (name: string) => manager.getSecret(name).inspect().then((s: any) => s, () => null),
    service: (name: string) => manager.getService(name).inspect().then((s: any) => s, () => null),
    runningTasks,
    execIn,
    runningTask,
    /** The token the agent of the workspace's running task reads. */
    async tokenIn(workspaceId: string): Promise<string> {
      const task = await runningTask(workspaceId);
      return (await execIn(task.NodeID, task.Status.ContainerStatus.ContainerID, ['cat', '/configs/.auth_token'])).trim();
    },
    /** Removes every service and secret labeled with these deployments (and the named extras). */
    async removeAll(deploymentIds: readonly string[], extraNames: { services?: string[]; secrets?: string[] } = {}): Promise<void> {
      for (const d of deploymentIds) await removeDeploymentResources(manager, d);
      for (const n of extraNames.services ?? []) await manager.getService(n).remove().catch(() => {});
      for (const n of extraNames.secrets ?? []) await manager.getSecret(n).remove().catch(() => {});
    },
  };
}

export type SwarmView = ReturnType<typeof swarmView>;

/** `ws-<12>`, and its token secret of a generation. */
export const serviceNameOf = containerNameFor;
export const tokenSecretOf = (workspaceId: string, generation: number) => `${containerNameFor(workspaceId)}-token-${generation}`;
