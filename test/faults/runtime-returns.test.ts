// Problem 6 of issue 11: a workspace that went FAILED only because no container runtime was reachable
// stayed FAILED after Docker returned. Now the first health sweep after the runtime is reachable again
// provisions it again: created while no daemon answers (FAILED, "no container runtime is reachable"),
// ONLINE within two health-sweep intervals of the daemon's appearance, with no operator and no restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createDockerProxy, type DockerProxy } from '../support/docker-proxy.js';
import { DOCKER_HOST, dockerAvailable, ensureAgentImage, rawDocker } from '../support/docker-e2e.js';
import { converged, deploymentIdOf, historyOf, removeDeployment, sqlOn, statusHistory, until } from './support/convergence.js';
import { startFaultServer, type FaultServer } from './support/servers.js';
import { createWorkspaces } from './support/workload.js';

const HEALTH_S = 2;

describe.skipIf(!dockerAvailable && !process.env.CI)('a workspace FAILED for want of a runtime', () => {
  let database: TestDatabase;
  let late: DockerProxy;
  let s: FaultServer | undefined;
  let deploymentId: string | undefined;

  beforeAll(async () => {
    await ensureAgentImage();
    database = await createTestDatabase();
    late = createDockerProxy(DOCKER_HOST);
  }, 120_000);
  afterAll(async () => {
    await s?.stop();
    if (deploymentId) await removeDeployment(rawDocker, deploymentId);
    await late?.close();
    await database?.drop();
  });

  it('is provisioned again by the first health sweep after the runtime is back', async () => {
    s = await startFaultServer({ DATABASE_URL: database.url!, DOCKER_HOST: late.dockerHost, HEALTH_SWEEP_INTERVAL_S: String(HEALTH_S) });
    const sql = sqlOn(database.url!);
    deploymentId = await deploymentIdOf(sql);
    const ids = await createWorkspaces(s.gql, 3, 'no runtime yet');
    await until(
      async () => ((await sql.rows(`SELECT 1 FROM workspaces WHERE id = ANY($1::uuid[]) AND status = 'FAILED'`, [ids])).length === ids.length ? true : undefined),
      20_000,
      'every workspace FAILED',
    );
    expect((await s.gql('{ platform { runtimeReachable } }')).data.platform.runtimeReachable).toBe(false);

    await late.listen();
    const backAt = Date.now();
    const tookMs = await converged({ sql, docker: rawDocker, deploymentId, ids }, backAt, 60_000);
    console.log(`[faults] runtime returned → FAILED-for-want-of-a-runtime workspaces ONLINE ${tookMs} ms later (health sweep every ${HEALTH_S} s)`);
    expect(tookMs).toBeLessThan(2 * HEALTH_S * 1000 + 8_000);
    for (const id of ids) {
      expect(await statusHistory(sql, id, '0')).toEqual(['PROVISIONING', 'FAILED', 'PROVISIONING', 'ONLINE']);
      const events = await historyOf(sql, id, '0');
      expect(events.find((e) => e.status === 'FAILED')!.payload.reason).toBe('no container runtime is reachable');
      expect(events.filter((e) => e.status === 'PROVISIONING')[1]!.payload.source).toBe('runtime-returned');
    }
    expect((await s.gql('{ platform { runtimeReachable } }')).data.platform.runtimeReachable).toBe(true);
  });
});
