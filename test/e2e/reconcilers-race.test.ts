// THE race of the stale-token sweep (DESIGN.md "The stale-token sweep is exact"), reproduced on the
// PostgreSQL server with the in-memory runtime (test/support/stale-token-race.ts runs the rounds; the
// Swarm version is test/e2e/swarm-race.test.ts). The exact pass must never revoke the token a
// concurrent restart just issued; the naive two-step variant must, every round: that proves this test
// catches the bug.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeRuntime, type FakeRuntime } from '../../services/runtime/fake.js';
import { prefixOf } from '../support/reconcilers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { raceServerEnv, raceStaleTokenPass, type StaleTokenRace } from '../support/stale-token-race.js';

const ROUNDS = 200;
const GRACE_S = 300;

describe('the stale-token race on the PostgreSQL server', () => {
  let s: TestServer;
  let fake: FakeRuntime;
  let race: StaleTokenRace;

  beforeAll(async () => {
    fake = createFakeRuntime();
    s = await startTestServer(raceServerEnv(GRACE_S), { runtime: fake });
    race = { server: s, runtime: fake, graceS: GRACE_S, register };
  });
  afterAll(async () => {
    await s?.stop();
  });

  /** The agent of the new container registers with the token the provisioner wrote into its volume. */
  async function register(workspaceId: string): Promise<void> {
    const file = fake.readFile(`ws-${prefixOf(workspaceId)}`, '/configs/.auth_token');
    if (!file) throw new Error('no token file in the new container');
    const res = await s.http('/registry/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${file.content}` },
      body: JSON.stringify({ id: workspaceId, url: 'http://127.0.0.1:9/agent', agent_card: { name: 'race' } }),
    });
    if (res.status !== 200) throw new Error(`register answered ${res.status}: ${await res.text()}`);
  }

  it(`never revokes the token a concurrent restart just issued (${ROUNDS} rounds)`, async () => {
    const { revokedFresh, registered } = await raceStaleTokenPass(race, 'exact', ROUNDS);
    expect(revokedFresh).toBe(0);
    // Half the rounds were ONLINE again when the pass went on: the staleness predicate alone protected them.
    expect(registered).toBe(ROUNDS / 2);
  }, 300_000);

  it(`catches the naive two-step variant: it revokes the fresh token (${ROUNDS} rounds)`, async () => {
    const { revokedFresh } = await raceStaleTokenPass(race, 'naive', ROUNDS);
    expect(revokedFresh).toBeGreaterThanOrEqual(1);
    expect(revokedFresh).toBe(ROUNDS);
  }, 300_000);
});
