// THE race of the stale-token sweep (DESIGN.md "The stale-token sweep is exact"), reproduced on the
// PostgreSQL server. A hook stops the pass after it has listed containers and before its SQL; meanwhile
// the real restart service makes its PROVISIONING transaction, and its provisioner issues a fresh
// token (and, every other round, the agent registers with it and the workspace is ONLINE again); then
// the pass goes on. The exact pass must never revoke the fresh token. The same rounds against the
// naive two-step variant (candidates first, then "every live token of the workspace") must revoke it:
// that proves this test catches the bug.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrphanSweeper, type OrphanSweeper } from '../../services/reconcilers/orphan-sweeper.js';
import type { StaleTokenVariant } from '../../services/reconcilers/stale-tokens.js';
import { createFakeRuntime, type FakeRuntime } from '../../services/runtime/fake.js';
import { insertToken, insertWorkspace, liveTokens, prefixOf, statusOf, testLog } from '../support/reconcilers.js';
import { startTestServer, type TestServer } from '../support/server.js';

const ROUNDS = 200;
const GRACE_S = 300;
const QUIET = '3600';

describe('the stale-token race on the PostgreSQL server', () => {
  let s: TestServer;
  let fake: FakeRuntime;

  beforeAll(async () => {
    fake = createFakeRuntime();
    // The server's own loops stay out of the way; the test drives its own sweepers.
    s = await startTestServer(
      {
        ORPHAN_SWEEP_INTERVAL_S: QUIET,
        HEALTH_SWEEP_INTERVAL_S: QUIET,
        LIVENESS_SWEEP_INTERVAL_S: QUIET,
        PROVISION_TIMEOUT_SWEEP_INTERVAL_S: QUIET,
        HIBERNATION_SWEEP_INTERVAL_S: QUIET,
        STALE_TOKEN_GRACE_S: String(GRACE_S),
      },
      { runtime: fake },
    );
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

  /** Runs the rounds; returns how many fresh tokens the pass revoked. */
  async function race(variant: StaleTokenVariant, rounds: number): Promise<{ revokedFresh: number; registered: number }> {
    let current: { id: string; round: number } | null = null;
    let fresh: string[] = [];
    const sweeper: OrphanSweeper = createOrphanSweeper({
      db: s.db,
      runtime: fake,
      log: testLog,
      staleTokenGraceS: GRACE_S,
      deploymentId: s.services.deps.deploymentId,
      intervalMs: 60_000,
      staleTokenVariant: variant,
      async beforeRevoke() {
        if (!current) return;
        const before = new Set(await liveTokens(s.db, current.id));
        await s.services.lifecycle.restart(current.id);
        await s.services.lifecycle.idle();
        fresh = (await liveTokens(s.db, current.id)).filter((t) => !before.has(t));
        if (fresh.length !== 1) throw new Error(`expected one fresh token, found ${fresh.length}`);
        if (current.round % 2 === 1) await register(current.id);
      },
    });
    let revokedFresh = 0;
    let registered = 0;
    for (let round = 0; round < rounds; round++) {
      // A container workspace that lost its container: OFFLINE, with a stale token nobody holds.
      const id = await insertWorkspace(s.db, { status: 'OFFLINE' });
      await insertToken(s.db, id, { createdAgoS: GRACE_S + 120 });
      current = { id, round };
      const report = await sweeper.cycle();
      expect(report['stale-tokens'].status).toBe('done');
      const live = new Set(await liveTokens(s.db, id));
      if (!fresh.every((t) => live.has(t))) revokedFresh++;
      if ((await statusOf(s.db, id)) === 'ONLINE') registered++;
    }
    current = null;
    return { revokedFresh, registered };
  }

  it(`never revokes the token a concurrent restart just issued (${ROUNDS} rounds)`, async () => {
    const { revokedFresh, registered } = await race('exact', ROUNDS);
    expect(revokedFresh).toBe(0);
    // Half the rounds reached ONLINE before the pass went on: the staleness predicate alone protected them.
    expect(registered).toBe(ROUNDS / 2);
  }, 300_000);

  it(`catches the naive two-step variant: it revokes the fresh token (${ROUNDS} rounds)`, async () => {
    const { revokedFresh } = await race('naive', ROUNDS);
    expect(revokedFresh).toBeGreaterThanOrEqual(1);
    expect(revokedFresh).toBe(ROUNDS);
  }, 300_000);
});
