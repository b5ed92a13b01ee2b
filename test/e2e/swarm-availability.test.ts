// Availability on Swarm through the server (API.md "On Docker Swarm"): a daemon that is not a manager
// counts as no runtime; a workspace whose node dies goes OFFLINE within one health-sweep interval of
// the manager marking the node down, and auto-restart brings it back ONLINE on the healthy node, with
// one running task and no secret left behind. The worker is killed here and booted again at the end,
// so that the files after this one have two nodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_RUNTIME_REASON } from '../../services/provisioning/reasons.js';
import { LABEL_WORKSPACE_ID } from '../../services/runtime/types.js';
import { DOCKER_HOST } from '../support/docker-e2e.js';
import { CREATE, DELETE, PAUSE, RESTART, eventually, row } from '../support/lifecycle-fixtures.js';
import { killWorker, nodeClient, startWorker, swarmHarness } from '../support/swarm.js';
import { WORKSPACE, reachStatus, startSwarmServer, swarmView, tokenSecretOf, type SwarmServer, type SwarmView, type UpSwarm } from '../support/swarm-server.js';

const h = swarmHarness();
const up = h.available ? (h as UpSwarm) : null;
const HEALTH_SWEEP_INTERVAL_S = 3;
/** The shared daemon of the machine: a plain daemon, in no swarm. */
const SHARED_DOCKER_HOST = DOCKER_HOST ?? 'unix:///var/run/docker.sock';

async function createWorkspace(s: SwarmServer): Promise<string> {
  const r = await s.gql(CREATE, { input: { name: 'swarm availability', tier: 1 } });
  expect(r.data.createWorkspace.__typename).toBe('CreateWorkspaceSuccess');
  return r.data.createWorkspace.workspace.id;
}

describe.skipIf(!up && !process.env.CI)('Swarm availability through the server (real two-node swarm)', { timeout: 90_000 }, () => {
  let swarm: SwarmView;
  const servers: SwarmServer[] = [];

  beforeAll(() => {
    if (!up) throw new Error(`the two-node swarm is not available: ${(h as { reason: string }).reason}`);
    swarm = swarmView(up);
  });

  afterAll(async () => {
    for (const s of servers) await s.stop().catch(() => {});
    await swarm?.removeAll(servers.map((s) => s.deploymentId));
  });

  for (const [what, hostOf] of [
    ['the shared daemon, in no swarm', () => SHARED_DOCKER_HOST],
    ['the worker of the swarm', () => up!.workerHost],
  ] as const) {
    it(`a daemon that is not a manager (${what}) counts as no runtime, with a warning naming Swarm`, async () => {
      const info = (await nodeClient(hostOf()).info()) as { Swarm?: { ControlAvailable?: boolean } };
      expect(info.Swarm?.ControlAvailable ?? false).toBe(false);
      const s = await startSwarmServer(hostOf());
      servers.push(s);
      await eventually(async () => (s.warnings.some((w) => /Swarm/.test(w) && /not a Swarm manager/.test(w)) ? true : undefined), 10_000, 'the warning');
      expect((await s.gql('{ platform { containerRuntime runtimeReachable } }')).data.platform).toEqual({ containerRuntime: 'swarm', runtimeReachable: false });

      // A container workspace goes FAILED for want of a runtime; the mutations that need one refuse.
      const id = await createWorkspace(s);
      await reachStatus(s, id, 'FAILED', 15_000);
      expect((await s.gql(WORKSPACE, { id })).data.workspace).toMatchObject({ lastSampleError: NO_RUNTIME_REASON, container: null });
      for (const mutation of [RESTART, PAUSE]) {
        const r = await s.gql(mutation, { id });
        expect(r.status).toBe(200);
        expect(Object.values(r.data)[0]).toMatchObject({ __typename: 'RuntimeUnavailableError' });
      }
      expect((await row(s, id)).status).toBe('FAILED');
      await s.stop();
      servers.splice(servers.indexOf(s), 1);
    });
  }

  it('the worker dies: OFFLINE within one health-sweep interval of the node going down, then ONLINE on the manager by itself', async () => {
    const s = await startSwarmServer(up!.managerHost, { HEALTH_SWEEP_INTERVAL_S: String(HEALTH_SWEEP_INTERVAL_S) });
    servers.push(s);
    // No placement constraint (or the workspace could not move): the scheduler spreads tasks over the
    // nodes, so while those on the manager stay, one of the next few lands on the worker.
    let id: string | null = null;
    const onManager: string[] = [];
    for (let attempt = 0; attempt < 4 && !id; attempt++) {
      const candidate = await createWorkspace(s);
      await reachStatus(s, candidate, 'ONLINE');
      if ((await swarm.runningTask(candidate)).NodeID === up!.workerNode) id = candidate;
      else onManager.push(candidate);
    }
    for (const other of onManager) await s.gql(DELETE, { id: other });
    if (!id) throw new Error('no workspace landed on the worker in 4 attempts');
    expect((await row(s, id)).generation).toBe(1);

    let downAt = 0;
    try {
      killWorker(up!);
      await eventually(async () => {
        const node = (await swarm.manager.getNode(up!.workerNode).inspect()) as { Status: { State: string } };
        return node.Status.State === 'down' ? (downAt = Date.now()) : undefined;
      }, 40_000, 'the manager to mark the worker down');

      // OFFLINE may last only until the auto-restart (2 s later): read when it was written.
      const offlineAt = await eventually(async () => {
        const rows = await s.db.prisma.$queryRaw<{ at: Date }[]>`
          /* testOfflineAt */
          SELECT created_at AS at FROM workspace_events
           WHERE workspace_id = ${id}::uuid AND status = 'OFFLINE' ORDER BY id LIMIT 1`;
        return rows[0]?.at;
      }, 15_000, 'the OFFLINE event');
      const lagMs = offlineAt.getTime() - downAt;
      console.log(`swarm: node marked down → workspace OFFLINE after ${lagMs} ms (health sweep every ${HEALTH_SWEEP_INTERVAL_S} s)`);
      // Observed on a 100 ms poll, so the OFFLINE may even come first (the server polls the manager too).
      expect(lagMs).toBeLessThanOrEqual(HEALTH_SWEEP_INTERVAL_S * 1000);

      await reachStatus(s, id, 'ONLINE', 30_000);
      console.log(`swarm: node marked down → ONLINE again after ${Date.now() - downAt} ms`);
      const task = await swarm.runningTask(id);
      expect(task.NodeID).toBe(up!.managerNode);
      expect((await row(s, id)).generation).toBe(2);
      expect((await swarm.services(id)).map((x) => x.Spec.Labels['molecule.workspace.generation'])).toEqual(['2']);
      expect(await swarm.secretNames(id)).toEqual([tokenSecretOf(id, 2)]);
      const statuses = (await s.db.prisma.$queryRaw<{ status: string; source: string | null }[]>`
        /* testStatusTrail */
        SELECT status::text AS status, payload->>'source' AS source FROM workspace_events
         WHERE workspace_id = ${id}::uuid AND status IS NOT NULL ORDER BY id`).map((e) => `${e.status}:${e.source}`);
      // Whichever saw it first: the task-death poll (every 2 s) or the health sweep's tick.
      expect(statuses.slice(-3)).toEqual([expect.stringMatching(/^OFFLINE:(container-event|health-sweep)$/), 'PROVISIONING:auto-restart', 'ONLINE:register']);
    } finally {
      startWorker(up!);
    }

    // Back with two nodes: the dead task is not resurrected; exactly one task of the workspace runs.
    await eventually(async () => {
      const node = (await swarm.manager.getNode(up!.workerNode).inspect()) as { Status: { State: string } };
      return node.Status.State === 'ready' ? true : undefined;
    }, 30_000, 'the worker Ready again');
    // The manager reports the removed service's task on the worker "running" until the worker, back,
    // has been told to drop it.
    const readyAt = Date.now();
    const runningOn = async () =>
      ((await swarm.manager.listTasks({ filters: { label: [`${LABEL_WORKSPACE_ID}=${id}`] } })) as any[]).filter((t) => t.Status.State === 'running').map((t) => t.NodeID);
    await eventually(async () => ((await runningOn()).length === 1 ? true : undefined), 20_000, 'the dead task to be dropped');
    console.log(`swarm: worker Ready → its dead task dropped after ${Date.now() - readyAt} ms`);
    expect(await runningOn()).toEqual([up!.managerNode]);
    const onWorker = await swarm.worker.listContainers({ filters: { label: [`${LABEL_WORKSPACE_ID}=${id}`], status: ['running'] } });
    expect(onWorker).toEqual([]);
    expect(await swarm.secretNames(id)).toEqual([tokenSecretOf(id, 2)]);
    expect((await row(s, id)).status).toBe('ONLINE');
  });
});
