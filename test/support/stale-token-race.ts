// THE race of the stale-token sweep (DESIGN.md "The stale-token sweep is exact"), for any runtime: a
// hook stops the pass after it has listed containers and before its SQL; meanwhile the real restart
// service makes its PROVISIONING transaction and its provisioner issues a fresh token; then the pass
// goes on. Odd rounds, it goes on only once provisioning is over and the agent has registered with the
// fresh token (the workspace is ONLINE again: the staleness predicate alone protects the token); even
// rounds, as soon as the fresh token exists, while the provisioner is still at work. The exact pass
// must never revoke the fresh token; the naive two-step variant (candidates first, then "every live
// token of the workspace") must, which proves the race is really run.
import { createOrphanSweeper } from '../../services/reconcilers/orphan-sweeper.js';
import type { StaleTokenVariant } from '../../services/reconcilers/stale-tokens.js';
import type { ContainerRuntime } from '../../services/runtime/types.js';
import { insertToken, insertWorkspace, liveTokens, statusOf, testLog } from './reconcilers.js';
import type { TestServer } from './server.js';

export interface StaleTokenRace {
  /** A server whose own loops are quiet (long intervals): the race drives its own sweeper. */
  server: TestServer;
  /** The server's runtime (what the sweeper lists). */
  runtime: ContainerRuntime;
  graceS: number;
  /** The tier of the round's workspace (default 2). */
  tier?: number;
  /** Odd rounds, before the pass goes on: the new container's agent registers with the fresh token. */
  register(workspaceId: string): Promise<void>;
  /** After each round (e.g. frees what the round's container holds on a real runtime). */
  afterRound?(workspaceId: string): Promise<void>;
}

export interface RaceOutcome {
  /** Rounds in which the pass revoked the token the concurrent restart had just issued. */
  revokedFresh: number;
  /** Rounds in which the workspace was ONLINE again when the pass went on (the odd ones). */
  registered: number;
}

const TOKEN_WAIT_MS = 10_000;
const QUIET_S = '3600';

/** The server's own loops stay out of the way (an hour apart); the race drives its own sweeper. */
export function raceServerEnv(graceS: number): Record<string, string> {
  return {
    ORPHAN_SWEEP_INTERVAL_S: QUIET_S,
    HEALTH_SWEEP_INTERVAL_S: QUIET_S,
    LIVENESS_SWEEP_INTERVAL_S: QUIET_S,
    PROVISION_TIMEOUT_SWEEP_INTERVAL_S: QUIET_S,
    HIBERNATION_SWEEP_INTERVAL_S: QUIET_S,
    STALE_TOKEN_GRACE_S: String(graceS),
  };
}

export async function raceStaleTokenPass(race: StaleTokenRace, variant: StaleTokenVariant, rounds: number): Promise<RaceOutcome> {
  const s = race.server;
  let current: { id: string; round: number } | null = null;
  let fresh: string[] = [];
  let statusAtPass: string | null = null;
  const sweeper = createOrphanSweeper({
    db: s.db,
    runtime: race.runtime,
    log: testLog,
    staleTokenGraceS: race.graceS,
    deploymentId: s.services.deps.deploymentId,
    intervalMs: 60_000,
    staleTokenVariant: variant,
    async beforeRevoke() {
      if (!current) return;
      const id = current.id;
      const before = new Set(await liveTokens(s.db, id));
      const issued = async () => (await liveTokens(s.db, id)).filter((t) => !before.has(t));
      await s.services.lifecycle.restart(id);
      if (current.round % 2 === 1) {
        await s.services.lifecycle.idle();
        fresh = await issued();
        await race.register(id);
      } else {
        for (const deadline = Date.now() + TOKEN_WAIT_MS; (fresh = await issued()).length === 0 && Date.now() < deadline; ) {
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      if (fresh.length !== 1) throw new Error(`expected one fresh token, found ${fresh.length}`);
      statusAtPass = await statusOf(s.db, id);
    },
  });
  let revokedFresh = 0;
  let registered = 0;
  for (let round = 0; round < rounds; round++) {
    // A container workspace that lost its container: OFFLINE, with a stale token nobody holds.
    const id = await insertWorkspace(s.db, { status: 'OFFLINE', tier: race.tier });
    await insertToken(s.db, id, { createdAgoS: race.graceS + 120 });
    current = { id, round };
    fresh = [];
    statusAtPass = null;
    const report = await sweeper.cycle();
    if (report['stale-tokens'].status !== 'done') throw new Error(`round ${round}: the stale-token pass did not finish: ${JSON.stringify(report['stale-tokens'])}`);
    // The provisioner of an even round may still be at work: its outcome is part of the round.
    await s.services.lifecycle.idle();
    const live = new Set(await liveTokens(s.db, id));
    if (!fresh.every((t) => live.has(t))) revokedFresh++;
    if (statusAtPass === 'ONLINE') registered++;
    await race.afterRound?.(id);
  }
  current = null;
  return { revokedFresh, registered };
}
