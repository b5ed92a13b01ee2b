// THE race of the stale-token sweep on Swarm (DESIGN.md "The stale-token sweep is exact"; the rounds
// are test/support/stale-token-race.ts): a restart racing the orphan sweeper's stale-token pass, with
// the real provisioner making a real service and secret, the reference agent registering by itself
// (odd rounds) or the pass going on while the provisioner is still at work (even rounds), and the pass
// listing the swarm's services. No fresh token may ever be revoked; the naive variant, run for a few
// rounds, must revoke it every time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerNameFor } from '../../services/runtime/types.js';
import { statusOf } from '../support/reconcilers.js';
import { eventually } from '../support/lifecycle-fixtures.js';
import { raceServerEnv, raceStaleTokenPass, type StaleTokenRace } from '../support/stale-token-race.js';
import { swarmHarness } from '../support/swarm.js';
import { startSwarmServer, swarmView, type SwarmServer, type UpSwarm } from '../support/swarm-server.js';

const h = swarmHarness();
const up = h.available ? (h as UpSwarm) : null;
const ROUNDS = 100;
const NAIVE_ROUNDS = 6;
const GRACE_S = 300;

describe.skipIf(!up && !process.env.CI)('the stale-token race on Swarm (real server, real two-node swarm)', () => {
  let s: SwarmServer;
  let race: StaleTokenRace;

  beforeAll(async () => {
    if (!up) throw new Error(`the two-node swarm is not available: ${(h as { reason: string }).reason}`);
    s = await startSwarmServer(up.managerHost, raceServerEnv(GRACE_S));
    const runtime = s.services.deps.runtime;
    race = {
      server: s,
      runtime,
      graceS: GRACE_S,
      // Half a CPU reserved: a removed round's task keeps its reservation for the 2-3 s Swarm takes to
      // stop it, and a full node would leave the next round's task pending meanwhile.
      tier: 1,
      // The agent of the new service reads its token from the secret and registers by itself.
      register: async (id) => {
        await eventually(async () => ((await statusOf(s.db, id)) === 'ONLINE' ? true : undefined), 15_000, `${id} to register`);
      },
      // One workspace's service at a time: the round's service and secret go before the next round.
      afterRound: (id) => runtime.remove(containerNameFor(id), { force: true }),
    };
  });

  afterAll(async () => {
    const deploymentId = s?.deploymentId;
    await s?.stop();
    if (deploymentId && up) await swarmView(up).removeAll([deploymentId]);
  });

  it(`never revokes the token a concurrent restart just issued (${ROUNDS} rounds)`, async () => {
    const started = performance.now();
    const { revokedFresh, registered } = await raceStaleTokenPass(race, 'exact', ROUNDS);
    console.log(`swarm race: ${ROUNDS} rounds in ${Math.round(performance.now() - started)} ms`);
    expect(revokedFresh).toBe(0);
    // The odd rounds: the real agent had registered with the fresh token before the pass went on.
    expect(registered).toBe(ROUNDS / 2);
  }, 240_000);

  it(`catches the naive two-step variant on Swarm too (${NAIVE_ROUNDS} rounds)`, async () => {
    const { revokedFresh } = await raceStaleTokenPass(race, 'naive', NAIVE_ROUNDS);
    expect(revokedFresh).toBe(NAIVE_ROUNDS);
  }, 60_000);
});
