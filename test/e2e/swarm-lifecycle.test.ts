// The workspace lifecycle through the server (CONTAINER_RUNTIME=swarm) on the real two-node swarm, with
// the reference agent: create, restart, pause and resume, hibernate and wake, delete, SWARM_PLACEMENT
// (API.md "On Docker Swarm"). What the manager holds is checked after every step: exactly one service
// `ws-<12>` and one secret `ws-<12>-token-<generation>` while a workspace runs, none once it does not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_DEPLOYMENT, LABEL_GENERATION, LABEL_MANAGED, LABEL_WORKSPACE_ID } from '../../services/runtime/types.js';
import { CREATE, DELETE, HIBERNATE, PAUSE, RESTART, RESUME, eventually, heartbeatStatus, row, viewerKind } from '../support/lifecycle-fixtures.js';
import { swarmHarness } from '../support/swarm.js';
import { WORKSPACE, reachStatus, serviceNameOf, startSwarmServer, swarmView, tokenSecretOf, type SwarmServer, type SwarmView, type UpSwarm } from '../support/swarm-server.js';

const h = swarmHarness();
const up = h.available ? (h as UpSwarm) : null;
const IMAGE = 'workspace-agent:latest';

describe.skipIf(!up && !process.env.CI)('workspace lifecycle on Swarm (real server, real two-node swarm)', { timeout: 60_000 }, () => {
  let s: SwarmServer;
  let onWorker: SwarmServer | undefined;
  let swarm: SwarmView;

  beforeAll(async () => {
    if (!up) throw new Error(`the two-node swarm is not available: ${(h as { reason: string }).reason}`);
    swarm = swarmView(up);
    s = await startSwarmServer(up.managerHost);
  });

  afterAll(async () => {
    const deployments = [s?.deploymentId, onWorker?.deploymentId].filter((d): d is string => !!d);
    await onWorker?.stop();
    await s?.stop();
    await swarm?.removeAll(deployments);
  });

  /** Tier 1 (half a CPU reserved): several workspaces fit on a 2-CPU node at once. */
  async function create(server: SwarmServer = s, input: Record<string, unknown> = {}): Promise<string> {
    const r = await server.gql(CREATE, { input: { name: 'swarm e2e', tier: 1, ...input } });
    expect(r.data.createWorkspace).toMatchObject({ __typename: 'CreateWorkspaceSuccess', workspace: { status: 'PROVISIONING' } });
    return r.data.createWorkspace.workspace.id;
  }

  const contract = (server: SwarmServer, id: string, generation: number) => ({
    [LABEL_MANAGED]: 'true',
    [LABEL_DEPLOYMENT]: server.deploymentId,
    [LABEL_WORKSPACE_ID]: id,
    [LABEL_GENERATION]: String(generation),
  });

  /** Exactly one service and one secret, of this generation, and one task running it. */
  async function expectRunningGeneration(server: SwarmServer, id: string, generation: number): Promise<any> {
    expect((await row(server, id)).generation).toBe(generation);
    const services = await swarm.services(id);
    expect(services.map((x) => x.Spec.Name)).toEqual([serviceNameOf(id)]);
    const service = services[0];
    expect(service.Spec.Labels).toMatchObject(contract(server, id, generation));
    expect(service.Spec.TaskTemplate.ContainerSpec.Labels).toEqual(contract(server, id, generation));
    expect(await swarm.secretNames(id)).toEqual([tokenSecretOf(id, generation)]);
    const task = await swarm.runningTask(id);
    expect(task.ServiceID).toBe(service.ID);
    return { service, task };
  }

  async function expectNothingOnTheSwarm(id: string): Promise<void> {
    expect(await swarm.services(id)).toEqual([]);
    expect(await swarm.secretNames(id)).toEqual([]);
    expect(await swarm.runningTasks(id)).toEqual([]);
  }

  it('create: one service and one secret with the contract labels; the agent brings it ONLINE; container is the task\'s', async () => {
    const id = await create();
    await reachStatus(s, id, 'ONLINE');
    const { service, task } = await expectRunningGeneration(s, id, 1);
    expect((await s.gql('{ platform { deploymentId containerRuntime runtimeReachable } }')).data.platform).toEqual({
      deploymentId: s.deploymentId,
      containerRuntime: 'swarm',
      runtimeReachable: true,
    });
    expect(service.Spec.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(service.Spec.TaskTemplate.RestartPolicy.Condition).toBe('none');
    // DOCKER_NETWORK=host: the manager stores the network by id.
    expect(service.Spec.TaskTemplate.Networks).toHaveLength(1);
    expect((await swarm.manager.getNetwork(service.Spec.TaskTemplate.Networks[0].Target).inspect()).Name).toBe('host');
    const secret = await swarm.secret(tokenSecretOf(id, 1));
    expect(secret.Spec.Labels).toEqual(contract(s, id, 1));
    expect(service.Spec.TaskTemplate.ContainerSpec.Secrets).toEqual([
      { SecretID: secret.ID, SecretName: tokenSecretOf(id, 1), File: { Name: '/configs/.auth_token', UID: '0', GID: '0', Mode: 0o600 } },
    ]);

    // Workspace.container describes the running task's container.
    const container = (await s.gql(WORKSPACE, { id })).data.workspace.container;
    expect(container).toMatchObject({ id: task.Status.ContainerStatus.ContainerID, name: `${serviceNameOf(id)}.1.${task.ID}`, image: IMAGE, running: true });
    expect(Date.parse(container.startedAt)).toBeGreaterThan(Date.now() - 60_000);
    // Workspace.logs: the service's logs, from whichever node runs the task.
    const logs = await eventually(async () => {
      const text: string | null = (await s.gql(`query($id: ID!) { workspace(id: $id) { logs } }`, { id })).data.workspace.logs;
      return text?.includes('state=online') ? text : undefined;
    }, 10_000, 'the agent output in Workspace.logs');
    expect(logs).toContain(id);

    // The token the agent read is the workspace's.
    const token = await swarm.tokenIn(id);
    expect(await viewerKind(s, token)).toBe('WORKSPACE');
    expect(await heartbeatStatus(s, id, token)).toBe(200);
    await s.gql(DELETE, { id });
  });

  it('restart (and with resetConfig): the old token refused at once, the next generation\'s service and secret, the older secret gone, one task', async () => {
    const id = await create();
    await reachStatus(s, id, 'ONLINE');
    const oldToken = await swarm.tokenIn(id);
    const oldService = (await swarm.services(id))[0].ID;
    expect(await heartbeatStatus(s, id, oldToken)).toBe(200);

    const r = await s.gql(RESTART, { id });
    expect(r.data.restartWorkspace).toMatchObject({ __typename: 'RestartWorkspaceSuccess', workspace: { status: 'PROVISIONING' } });
    expect(await heartbeatStatus(s, id, oldToken)).toBe(401);
    await reachStatus(s, id, 'ONLINE');
    await s.services.lifecycle.idle();
    const { service } = await expectRunningGeneration(s, id, 2);
    expect(service.ID).not.toBe(oldService);
    expect(await swarm.secret(tokenSecretOf(id, 1))).toBeNull();
    const newToken = await swarm.tokenIn(id);
    expect(newToken).not.toBe(oldToken);
    expect(await heartbeatStatus(s, id, newToken)).toBe(200);
    expect(await heartbeatStatus(s, id, oldToken)).toBe(401);

    // resetConfig: no config volume on Swarm; the token secrets are all there is, and the next
    // generation gets its own.
    const reset = await s.gql(RESTART, { id, input: { resetConfig: true } });
    expect(reset.data.restartWorkspace.__typename).toBe('RestartWorkspaceSuccess');
    expect(await heartbeatStatus(s, id, newToken)).toBe(401);
    await reachStatus(s, id, 'ONLINE');
    await s.services.lifecycle.idle();
    await expectRunningGeneration(s, id, 3);
    await s.gql(DELETE, { id });
  });

  it('pause removes the service and its secrets (parent and child); resume brings both ONLINE at the next generation', async () => {
    const parent = await create();
    const child = await create(s, { parentId: parent });
    await reachStatus(s, parent, 'ONLINE');
    await reachStatus(s, child, 'ONLINE');

    const r = await s.gql(PAUSE, { id: parent });
    expect(r.data.pauseWorkspace).toMatchObject({ pausedCount: 2, workspace: { status: 'PAUSED' } });
    // Answered only once the services went: nothing is left to look for.
    for (const id of [parent, child]) await expectNothingOnTheSwarm(id);
    expect((await s.gql(WORKSPACE, { id: parent })).data.workspace.container).toBeNull();

    const resumed = await s.gql(RESUME, { id: parent });
    expect(resumed.data.resumeWorkspace).toMatchObject({ resumedCount: 2, workspace: { status: 'PROVISIONING' } });
    for (const id of [parent, child]) {
      await reachStatus(s, id, 'ONLINE');
      await expectRunningGeneration(s, id, 2);
    }
    await s.gql(DELETE, { id: parent });
  });

  it('hibernate removes the service and its secrets; a restart wakes it ONLINE at the next generation', async () => {
    const id = await create();
    await reachStatus(s, id, 'ONLINE');
    const r = await s.gql(HIBERNATE, { id });
    expect(r.data.hibernateWorkspace).toMatchObject({ __typename: 'HibernateWorkspaceSuccess', workspace: { status: 'HIBERNATED' } });
    await expectNothingOnTheSwarm(id);
    const woken = await s.gql(RESTART, { id });
    expect(woken.data.restartWorkspace.workspace.status).toBe('PROVISIONING');
    await reachStatus(s, id, 'ONLINE');
    await expectRunningGeneration(s, id, 2);
    await s.gql(DELETE, { id });
  });

  it('delete removes the service and its secrets; the token is refused', async () => {
    const id = await create();
    await reachStatus(s, id, 'ONLINE');
    const token = await swarm.tokenIn(id);
    const r = await s.gql(DELETE, { id });
    expect(r.data.deleteWorkspace).toMatchObject({ __typename: 'DeleteWorkspaceSuccess', removedCount: 1 });
    expect(await viewerKind(s, token)).toBeNull();
    // The removal runs after the commit.
    await s.services.lifecycle.idle();
    await eventually(async () => ((await swarm.services(id)).length === 0 ? true : undefined), 10_000, 'the service to go');
    await expectNothingOnTheSwarm(id);
  });

  it('SWARM_PLACEMENT node.role==worker places the task on the worker; container describes it there', async () => {
    onWorker = await startSwarmServer(up!.managerHost, { SWARM_PLACEMENT: 'node.role==worker' });
    const id = await create(onWorker);
    await reachStatus(onWorker, id, 'ONLINE');
    const { service, task } = await expectRunningGeneration(onWorker, id, 1);
    expect(service.Spec.TaskTemplate.Placement.Constraints).toEqual(['node.role==worker']);
    expect(task.NodeID).toBe(up!.workerNode);
    const container = (await onWorker.gql(WORKSPACE, { id })).data.workspace.container;
    expect(container).toMatchObject({ id: task.Status.ContainerStatus.ContainerID, name: `${serviceNameOf(id)}.1.${task.ID}`, running: true });
    // The container is on the worker's daemon, not the manager's.
    expect((await swarm.worker.getContainer(container.id).inspect()).State.Running).toBe(true);
    await expect(swarm.manager.getContainer(container.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await onWorker.gql(DELETE, { id });
  });
});
