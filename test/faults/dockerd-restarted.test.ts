// The Docker daemon restarted under running workspaces (a private dockerd: the shared one is never
// restarted). Its containers die with it (restart policy "no": the server alone restarts them); each
// workspace goes OFFLINE, is restarted automatically once the daemon answers again, and comes back
// ONLINE in a new generation, with nothing left behind. A daemon stops its containers about a second
// before it closes its API: an automatic restart begun in that second meets the closing daemon and
// goes FAILED saying no runtime is reachable, and is provisioned again once it is back. Those are the
// two exact histories a workspace may show.
import { describe, expect, it } from 'vitest';
import { AGENT_IMAGE, DOCKER_HOST, dockerAvailable } from '../support/docker-e2e.js';
import { startPrivateDockerd, type PrivateDockerd } from '../support/private-dockerd.js';
import { converged, eventCursor, historyOf } from './support/convergence.js';
import { faultFixture } from './support/fixture.js';
import { createWorkspaces } from './support/workload.js';

const HEALTH_S = 2;

describe.skipIf(!dockerAvailable && !process.env.CI)('the Docker daemon restarted', () => {
  let dockerd: PrivateDockerd;
  const f = faultFixture(async () => {
    dockerd = await startPrivateDockerd(AGENT_IMAGE, DOCKER_HOST);
    f.cleanup(() => dockerd.dispose());
  });

  it('restarts every workspace once the daemon is back', async () => {
    const { s, sql, deploymentId } = await f.server({ DOCKER_HOST: dockerd.dockerHost, HEALTH_SWEEP_INTERVAL_S: String(HEALTH_S) });
    const ids = await createWorkspaces(s.gql, 4, 'dockerd restart');
    const check = { sql, docker: dockerd.api, deploymentId, ids };
    await converged(check, Date.now(), 90_000);
    const before = await sql.rows<{ id: string; generation: number }>(`SELECT id::text, generation FROM workspaces WHERE id = ANY($1::uuid[])`, [ids]);

    const cursor = await eventCursor(sql);
    const downAt = Date.now();
    await dockerd.restart();
    const backAt = Date.now();
    const tookMs = await converged(check, backAt, 60_000);
    console.log(`[faults] dockerd restarted (down ${backAt - downAt} ms) → converged ${tookMs} ms after it was back (health sweep every ${HEALTH_S} s)`);
    expect(tookMs).toBeLessThan(2 * HEALTH_S * 1000 + 8_000);
    const after = await sql.rows<{ id: string; generation: number }>(`SELECT id::text, generation FROM workspaces WHERE id = ANY($1::uuid[])`, [ids]);
    for (const w of before) {
      const events = (await historyOf(sql, w.id, cursor)).filter((e) => e.status !== null);
      const statuses = events.map((e) => e.status);
      if (statuses.length === 3) {
        expect(statuses, w.id).toEqual(['OFFLINE', 'PROVISIONING', 'ONLINE']);
        expect(after.find((a) => a.id === w.id)!.generation).toBe(w.generation + 1);
      } else {
        expect(statuses, w.id).toEqual(['OFFLINE', 'PROVISIONING', 'FAILED', 'PROVISIONING', 'ONLINE']);
        expect(events[2]!.payload.reason).toBe('no container runtime is reachable');
        expect(events[3]!.payload.source).toBe('runtime-returned');
        expect(after.find((a) => a.id === w.id)!.generation).toBe(w.generation + 2);
      }
      expect(events[1]!.payload.source).toBe('auto-restart');
    }
  });
});
