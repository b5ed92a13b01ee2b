// Problem 6 of issue 11: a workspace that went FAILED only because no container runtime was reachable
// stayed FAILED after Docker returned. Now the first health sweep after the runtime is reachable again
// provisions it again: created while no daemon answers (FAILED, "no container runtime is reachable"),
// ONLINE within two health-sweep intervals of the daemon's appearance, with no operator and no restart.
import { describe, expect, it } from 'vitest';
import { createDockerProxy, type DockerProxy } from '../support/docker-proxy.js';
import { DOCKER_HOST, dockerAvailable, rawDocker } from '../support/docker-e2e.js';
import { converged, historyOf, statusHistory, until } from './support/convergence.js';
import { faultFixture } from './support/fixture.js';
import { createWorkspaces } from './support/workload.js';

const HEALTH_S = 2;

describe.skipIf(!dockerAvailable && !process.env.CI)('a workspace FAILED for want of a runtime', () => {
  const late: DockerProxy = createDockerProxy(DOCKER_HOST);
  const f = faultFixture(async () => f.cleanup(() => late.close()));

  it('is provisioned again by the first health sweep after the runtime is back', async () => {
    const { s, sql, deploymentId } = await f.server({ DOCKER_HOST: late.dockerHost, HEALTH_SWEEP_INTERVAL_S: String(HEALTH_S) });
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
