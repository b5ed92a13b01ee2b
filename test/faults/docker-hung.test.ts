// Problem 4 of issue 11 (the runtime side): a Docker daemon that stops answering (a socket proxy we
// freeze). From the first call that gets no answer within RUNTIME_TIMEOUT_MS the runtime counts as
// unreachable: `container` and `logs` answer null and lifecycle mutations RuntimeUnavailableError at
// once (the old code blocked every such request for 30 s), `platform.runtimeReachable` is false. The
// restarts it interrupted go FAILED saying no runtime is reachable, and are provisioned again by the
// health sweep once the daemon answers: within two health-sweep intervals of its return.
import { describe, expect, it } from 'vitest';
import { createDockerProxy, type DockerProxy } from '../support/docker-proxy.js';
import { DOCKER_HOST, dockerAvailable, rawDocker } from '../support/docker-e2e.js';
import { converged, eventCursor, historyOf, until } from './support/convergence.js';
import { faultFixture } from './support/fixture.js';
import { createWorkspaces, restartStorm } from './support/workload.js';
import { expectRestartHistory } from './support/history.js';

const RUNTIME_TIMEOUT_MS = 1_000;
const HEALTH_S = 2;

describe.skipIf(!dockerAvailable && !process.env.CI)('a hung Docker daemon', () => {
  const proxy: DockerProxy = createDockerProxy(DOCKER_HOST);
  const f = faultFixture(async () => {
    await proxy.listen();
    f.cleanup(() => proxy.close());
    f.cleanup(async () => proxy.thaw());
  });

  const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const t0 = performance.now();
    const v = await fn();
    return [v, performance.now() - t0];
  };

  it('answers at once while it hangs, and provisions the interrupted restarts again once it answers', async () => {
    const { s, sql, deploymentId } = await f.server({
      DOCKER_HOST: proxy.dockerHost,
      RUNTIME_TIMEOUT_MS: String(RUNTIME_TIMEOUT_MS),
      HEALTH_SWEEP_INTERVAL_S: String(HEALTH_S),
    });
    const ids = await createWorkspaces(s.gql, 4, 'hung docker');
    const check = { sql, docker: rawDocker, deploymentId, ids };
    await converged(check, Date.now(), 90_000);

    const cursor = await eventCursor(sql);
    proxy.freeze();
    const frozenAt = Date.now();
    // Accepted before anything noticed the hang; their provisioning then meets it.
    const accepted = await restartStorm(s.gql, ids, 1);
    await until(async () => ((await s.gql('{ platform { runtimeReachable } }')).data.platform.runtimeReachable === false ? true : undefined), 10_000, 'the runtime to count as unreachable');

    const [list, listMs] = await timed(() => s.gql(`{ workspaces(first: 10) { edges { node { id container { id } logs } } } }`));
    expect(list.errors).toBeUndefined();
    expect(list.data.workspaces.edges.map((e: any) => [e.node.container, e.node.logs])).toEqual(ids.map(() => [null, null]));
    const [restart, restartMs] = await timed(() => s.gql(`mutation($id: ID!) { restartWorkspace(id: $id) { __typename } }`, { id: ids[0] }));
    expect(restart.data.restartWorkspace.__typename).toBe('RuntimeUnavailableError');
    const [pause, pauseMs] = await timed(() => s.gql(`mutation($id: ID!) { pauseWorkspace(id: $id) { __typename } }`, { id: ids[1] }));
    expect(pause.data.pauseWorkspace.__typename).toBe('RuntimeUnavailableError');
    const subsystems = (await s.gql('{ subsystems { name healthy } }')).data.subsystems;
    expect(subsystems.find((x: any) => x.name === 'health-sweep').healthy).toBe(false);
    // "At once": nothing waited for the daemon (a generous bound for a loaded machine, far below the timeout's 30 s of old).
    for (const ms of [listMs, restartMs, pauseMs]) expect(ms).toBeLessThan(RUNTIME_TIMEOUT_MS);

    await new Promise((r) => setTimeout(r, Math.max(0, 5_000 - (Date.now() - frozenAt))));
    proxy.thaw();
    const thawedAt = Date.now();
    const tookMs = await converged(check, thawedAt, 60_000);
    console.log(`[faults] Docker hung for ${thawedAt - frozenAt} ms (answers within ${Math.round(Math.max(listMs, restartMs, pauseMs))} ms) → converged ${tookMs} ms after it answered again (health sweep every ${HEALTH_S} s)`);
    // Two sweep intervals to notice and provision, plus the agent's own start and register.
    expect(tookMs).toBeLessThan(2 * HEALTH_S * 1000 + 8_000);
    for (const id of ids) {
      const n = accepted.get(id)!;
      await expectRestartHistory(sql, id, cursor, n, n > 0 ? ['FAILED', 'PROVISIONING', 'ONLINE'] : []);
      const failed = (await historyOf(sql, id, cursor)).find((e) => e.status === 'FAILED');
      if (n > 0) expect(failed?.payload.reason).toBe('no container runtime is reachable');
    }
    expect([...accepted.values()].reduce((a, b) => a + b, 0), 'restarts accepted before the hang was noticed').toBeGreaterThan(0);
  });
});
