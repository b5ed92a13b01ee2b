// The takeover loop (API.md "Outages": provisioning always converges, whatever the instances' ids). It
// runs on every instance, not on one leader: a stale claim must be taken over within 10 s of going
// stale, sooner than a leadership hand-over after the leader's own death could promise, and every
// instance is a candidate to do the work. The guarded claim statement is the mutual exclusion (only
// one instance's takeover of a given claim succeeds), and a scan is one indexed read, so running it
// everywhere costs little. It first runs at start-up (a restarted process resumes its own work).
//
// PROVISIONING work is taken over when
// - it was never claimed, 10 s after its provisioning began (the instance that committed it died
//   before claiming, or the claim statement itself failed);
// - its claim went stale: the owner has no live database session, or has not renewed it for 10 s (this
//   instance's own claims are stale as soon as no provisioning of this process holds them);
// - its container was started more than 10 s ago, the agent never registered, and the container is
//   not running (it died with its daemon, say): nobody else would ever start it again.
import type { Database } from '../db/client.js';
import type { Logger } from '../log.js';
import { LABEL_WORKSPACE_ID, containerNameFor, type ContainerRuntime } from '../runtime/types.js';
import { generationOf } from './container-spec.js';
import { STALE_CLAIM_S } from './guard.js';
import { instanceSessionNames, liveOwners } from './owners.js';
import type { ProvisionRequest } from './provisioner.js';

export const TAKEOVER_INTERVAL_MS = 2_500;
const SCAN_LIMIT = 500;

export interface TakeoverDeps {
  db: Database;
  runtime: ContainerRuntime;
  log: Logger;
  instanceId: string;
  intervalMs?: number;
  isInFlight(workspaceId: string): boolean;
  schedule(req: ProvisionRequest): void;
}

interface Candidate {
  id: string;
  generation: number;
  owner: string | null;
  renewed: boolean;
  started: boolean;
  started_long_ago: boolean;
  begun_long_ago: boolean;
}

function candidates(db: Database): Promise<Candidate[]> {
  return db.query<Candidate>`
    /* provisioningTakeoverCandidates */
    SELECT id::text AS id, generation, provision_claimed_by AS owner,
           COALESCE(provision_claimed_at >= now() - make_interval(secs => ${STALE_CLAIM_S}), false) AS renewed,
           provision_started_at IS NOT NULL AS started,
           COALESCE(provision_started_at < now() - make_interval(secs => ${STALE_CLAIM_S}), false) AS started_long_ago,
           GREATEST(status_changed_at, last_active_at) < now() - make_interval(secs => ${STALE_CLAIM_S}) AS begun_long_ago
      FROM workspaces
     WHERE status = 'PROVISIONING' AND runtime <> 'external'
     ORDER BY status_changed_at, id
     LIMIT ${SCAN_LIMIT}`;
}

export function createTakeoverLoop(deps: TakeoverDeps) {
  const { db, runtime, log, instanceId } = deps;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let scanning: Promise<number> | null = null;

  /** A started container that is gone or not running (null when the runtime cannot tell now). */
  async function startedContainerDead(c: Candidate): Promise<boolean | null> {
    if (!runtime.available()) return null;
    const info = await runtime.inspect(containerNameFor(c.id)).catch(() => undefined);
    if (info === undefined) return null;
    return !info || !info.running || info.labels[LABEL_WORKSPACE_ID] !== c.id || generationOf(info.labels) !== c.generation;
  }

  async function scanOnce(): Promise<number> {
    const rows = (await candidates(db)).filter((c) => !deps.isInFlight(c.id));
    if (rows.length === 0) return 0;
    const live = await liveOwners(db, rows.flatMap((c) => (c.owner && c.owner !== instanceId ? [c.owner] : [])));
    let taken = 0;
    for (const c of rows) {
      if (stopped || deps.isInFlight(c.id)) continue;
      let why: string | null = null;
      if (c.started) {
        if (c.started_long_ago && (await startedContainerDead(c)) === true) why = 'started container is not running and its agent never registered';
      } else if (c.owner === null) {
        if (c.begun_long_ago) why = 'never claimed';
      } else if (c.owner === instanceId) {
        why = 'claimed by an earlier process of this instance';
      } else if (!c.renewed || !live.has(c.owner)) {
        why = c.renewed ? `claimed by ${c.owner}, which has no live database session` : `claim of ${c.owner} not renewed for ${STALE_CLAIM_S} s`;
      }
      if (!why) continue;
      const ownerGone = db.embedded || c.owner === instanceId || c.started || (c.owner !== null && !live.has(c.owner));
      log.info({ workspaceId: c.id, generation: c.generation, owner: c.owner, why }, 'taking over stale provisioning');
      deps.schedule({
        workspaceId: c.id,
        generation: c.generation,
        claim: { kind: 'takeover', from: c.owner, ownerGone, ownerSessions: c.owner ? instanceSessionNames(c.owner) : [] },
      });
      taken++;
    }
    return taken;
  }

  function scan(): Promise<number> {
    scanning ??= scanOnce()
      .catch((err: unknown) => {
        log.warn({ err }, 'provisioning takeover scan failed; trying again at the next interval');
        return 0;
      })
      .finally(() => {
        scanning = null;
      });
    return scanning;
  }

  function loop(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      void scan().finally(loop);
    }, deps.intervalMs ?? TAKEOVER_INTERVAL_MS);
    timer.unref();
  }

  return {
    /** Scans now (start-up), then every interval. Resolves with how many were taken by the first scan. */
    async start(): Promise<number> {
      const n = await scan();
      if (!timer && !stopped) loop();
      return n;
    },
    stop(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
