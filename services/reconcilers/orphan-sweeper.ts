// The orphan sweeper (API.md "Reconcilers"): five independent passes per cycle, each one listing (at
// most once per cycle, shared) and one set-based statement. An error or an empty result in one pass
// never stops the others, and the cycle is bounded by a deadline. It only ever touches this
// deployment's resources, and unlabeled ones only by the REMOVED-rows name rule (ownership.ts).
import type { Database } from '../db/client.js';
import type { Logger } from '../log.js';
import { generationOf } from '../provisioning/container-spec.js';
import { LABEL_MANAGED, RuntimeUnavailable, type ContainerInfo, type ContainerRuntime, type VolumeInfo } from '../runtime/types.js';
import { containerPresence, containerRef, refArrays, volumeRef, type WorkspaceRef } from './container-match.js';
import { noRowRuleRef, ownershipOf, removedRuleRef, volumeGoesWith } from './ownership.js';
import { PartsFailed, TickSkipped, type LoopContext, type ReconcileLoop } from './loop.js';
import { runStaleTokenPass, type StaleTokenVariant } from './stale-tokens.js';
import { findRefsRemovedOrAbsent, findRefsWithoutRow, findRemovedWorkspaceRefs, findSupersededGenerations, type GenerationRef, type RefRow } from './sweeper-sql.js';

export const PASSES = ['removed-rows', 'no-row', 'orphan-volumes', 'superseded-secrets', 'stale-tokens'] as const;
export type PassName = (typeof PASSES)[number];
export type PassResult =
  | { status: 'done'; acted: number }
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; error: unknown };
export type CycleReport = Record<PassName, PassResult>;

export interface OrphanSweeperOptions {
  db: Database;
  runtime: ContainerRuntime;
  log: Logger;
  staleTokenGraceS: number;
  intervalMs: number;
  /** This deployment's id: only resources labeled with it (or unlabeled ones, by the name rule) are swept. */
  deploymentId: string;
  /** Bound of one cycle (default 30 s). */
  deadlineMs?: number;
  /** Test only, never reachable from config: see stale-tokens.ts. */
  staleTokenVariant?: StaleTokenVariant;
  /** Test only: awaited by the stale-token pass after listing, right before it revokes. */
  beforeRevoke?: () => Promise<void>;
}

export interface OrphanSweeper extends ReconcileLoop {
  cycle(signal?: AbortSignal): Promise<CycleReport>;
}

const MANAGED = `${LABEL_MANAGED}=true`;
const DEFAULT_DEADLINE_MS = 30_000;

/** Each listing is asked for once per cycle and only by the passes that need it. */
function listingsOf(runtime: ContainerRuntime) {
  const once = <T>(fn: () => Promise<T>) => {
    let p: Promise<T> | undefined;
    return () => (p ??= fn());
  };
  return {
    named: once(() => runtime.listByNamePrefix('ws-')),
    managed: once(() => runtime.list([MANAGED])),
    volumes: once(() => runtime.listVolumes([MANAGED])),
  };
}
type Listings = ReturnType<typeof listingsOf>;

function matcher(rows: RefRow[]): (ref: WorkspaceRef) => boolean {
  const ids = new Set(rows.flatMap((r) => (r.id ? [r.id] : [])));
  const prefixes = new Set(rows.flatMap((r) => (r.prefix ? [r.prefix] : [])));
  return (ref) => (ref.id ? ids.has(ref.id) : prefixes.has(ref.prefix!));
}

function withRefs<T extends ContainerInfo | VolumeInfo>(items: T[], refOf: (i: T) => WorkspaceRef | null) {
  return items.flatMap((item) => {
    const ref = refOf(item);
    return ref ? [{ item, ref }] : [];
  });
}

export function createOrphanSweeper(opts: OrphanSweeperOptions): OrphanSweeper {
  const { db, runtime, log, deploymentId } = opts;
  const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;

  /**
   * Force-removes the container, then (only if that worked) its config volume, when the volume listing
   * shows one that belongs with it (never another deployment's). Without a ref (a container no row can
   * match) the volume is left to the orphan-volumes pass.
   */
  async function reap(l: Listings, c: ContainerInfo, ref: WorkspaceRef | null, why: string): Promise<boolean> {
    try {
      await runtime.remove(c.id, { force: true });
    } catch (err) {
      log.warn({ err, container: c.name, why }, 'orphan sweeper: container removal failed; volume kept for the next cycle');
      return false;
    }
    const volumes = ref ? await l.volumes().catch(() => [] as VolumeInfo[]) : [];
    for (const v of volumes.filter((v) => volumeGoesWith(v, ref!, deploymentId))) {
      await runtime.removeVolume(v.name).catch((err) => log.warn({ err, volume: v.name, why }, 'orphan sweeper: volume removal failed'));
    }
    log.info({ container: c.name, workspaceId: ref?.id, why }, 'orphan sweeper reaped a container');
    return true;
  }

  async function reapAll(l: Listings, found: Array<{ item: ContainerInfo; ref: WorkspaceRef }>, rows: RefRow[], why: string, signal: AbortSignal) {
    const match = matcher(rows);
    let acted = 0;
    for (const { item, ref } of found) {
      if (signal.aborted) break;
      if (match(ref) && (await reap(l, item, ref, why))) acted++;
    }
    return acted;
  }

  const passes: Record<PassName, (l: Listings, signal: AbortSignal, deadline: number) => Promise<PassResult>> = {
    async 'removed-rows'(l, signal) {
      const found = withRefs(await l.named(), (c) => removedRuleRef(c, deploymentId));
      if (found.length === 0) return { status: 'done', acted: 0 };
      const rows = await findRemovedWorkspaceRefs(db.prisma, refArrays(found.map((f) => f.ref)));
      return { status: 'done', acted: await reapAll(l, found, rows, 'workspace removed', signal) };
    },

    async 'no-row'(l, signal) {
      const ours = (await l.managed()).map((item) => ({ item, ref: noRowRuleRef(item, deploymentId) }));
      // Labeled with our deployment, but naming no workspace a row could have: no row exists.
      let acted = 0;
      for (const { item } of ours.filter((o) => o.ref === 'unmatchable')) {
        if (signal.aborted) break;
        if (await reap(l, item, null, 'no workspace row')) acted++;
      }
      const found = ours.flatMap((o) => (o.ref && o.ref !== 'unmatchable' ? [{ item: o.item, ref: o.ref }] : []));
      if (found.length === 0) return { status: 'done', acted };
      const rows = await findRefsWithoutRow(db.prisma, refArrays(found.map((f) => f.ref)));
      return { status: 'done', acted: acted + (await reapAll(l, found, rows, 'no workspace row', signal)) };
    },

    async 'orphan-volumes'(l, signal) {
      const volumes = withRefs(
        (await l.volumes()).filter((v) => ownershipOf(v.labels, deploymentId) === 'ours'),
        volumeRef,
      );
      const present = containerPresence(refArrays([...(await l.named()), ...(await l.managed())].map(containerRef)));
      const unused = volumes.filter((v) => !present(v.ref));
      if (unused.length === 0) return { status: 'done', acted: 0 };
      const match = matcher(await findRefsRemovedOrAbsent(db.prisma, refArrays(unused.map((v) => v.ref))));
      let acted = 0;
      for (const { item, ref } of unused) {
        if (signal.aborted) break;
        if (!match(ref)) continue;
        try {
          await runtime.removeVolume(item.name);
          acted++;
        } catch (err) {
          log.warn({ err, volume: item.name }, 'orphan sweeper: volume removal failed');
        }
      }
      return { status: 'done', acted };
    },

    async 'superseded-secrets'(l, signal) {
      // Swarm's token secrets carry the generation they were made for (a Docker config volume outlives
      // generations and carries none, so on Docker nothing qualifies and no statement runs). One left
      // by an older generation (its removal with its service failed) is removed once no service of
      // its workspace is at that generation: the service a secret is attached to is always the one of
      // its generation, and the daemon refuses to remove a secret a service still uses anyway.
      const candidates = withRefs(
        (await l.volumes()).filter((v) => ownershipOf(v.labels, deploymentId) === 'ours'),
        volumeRef,
      ).flatMap(({ item, ref }) => {
        const generation = generationOf(item.labels);
        return ref.id && generation !== null ? [{ item, id: ref.id, generation }] : [];
      });
      if (candidates.length === 0) return { status: 'done', acted: 0 };
      const key = (r: GenerationRef) => `${r.id}/${r.generation}`;
      const inUse = new Set(
        [...(await l.named()), ...(await l.managed())].flatMap((c) => {
          const id = containerRef(c)?.id;
          const generation = generationOf(c.labels);
          return id && generation !== null ? [key({ id, generation })] : [];
        }),
      );
      const unused = candidates.filter((c) => !inUse.has(key(c)));
      if (unused.length === 0) return { status: 'done', acted: 0 };
      const superseded = new Set((await findSupersededGenerations(db.prisma, unused.map(({ id, generation }) => ({ id, generation })))).map(key));
      let acted = 0;
      for (const c of unused) {
        if (signal.aborted) break;
        if (!superseded.has(key(c))) continue;
        try {
          await runtime.removeVolume(c.item.name);
          acted++;
        } catch (err) {
          log.warn({ err, secret: c.item.name }, 'orphan sweeper: removal of a superseded secret failed');
        }
      }
      if (acted > 0) log.info({ count: acted }, 'orphan sweeper removed secrets of superseded generations');
      return { status: 'done', acted };
    },

    async 'stale-tokens'(l, _signal, deadline) {
      // "No containers listed" must never be read as "no containers exist".
      if (runtime.kind === 'none') return { status: 'skipped', reason: 'no container runtime configured' };
      const containers = refArrays([...(await l.named()), ...(await l.managed())].map(containerRef));
      const remaining = Math.max(1, deadline - Date.now());
      const revoked = await runStaleTokenPass(
        { db, graceSeconds: opts.staleTokenGraceS, variant: opts.staleTokenVariant, beforeRevoke: opts.beforeRevoke },
        containers,
        remaining,
      );
      if (revoked.length > 0) log.info({ count: revoked.length }, 'orphan sweeper revoked stale tokens');
      return { status: 'done', acted: revoked.length };
    },
  };

  async function cycle(outer?: AbortSignal): Promise<CycleReport> {
    const signal = AbortSignal.any([AbortSignal.timeout(deadlineMs), ...(outer ? [outer] : [])]);
    const deadline = Date.now() + deadlineMs;
    const l = listingsOf(runtime);
    const report = {} as CycleReport;
    for (const name of PASSES) {
      if (signal.aborted) {
        report[name] = { status: 'skipped', reason: 'cycle deadline passed' };
        continue;
      }
      try {
        report[name] = await passes[name](l, signal, deadline);
      } catch (error) {
        // A listing that failed skips the passes that need it: they run no query at all.
        report[name] = { status: 'failed', error };
        if (!(error instanceof RuntimeUnavailable)) log.warn({ err: error, pass: name }, 'orphan sweeper pass failed');
      }
    }
    return report;
  }

  return {
    name: 'orphan-sweeper',
    intervalMs: opts.intervalMs,
    needsRuntime: true,
    cycle,
    async tick(ctx: LoopContext) {
      if (runtime.kind === 'none') throw new TickSkipped('no container runtime configured');
      const report = await cycle(ctx.signal);
      const results = Object.entries(report) as Array<[PassName, PassResult]>;
      const failed = results.filter((r): r is [PassName, Extract<PassResult, { status: 'failed' }>] => r[1].status === 'failed');
      if (failed.length > 0 && failed.every(([, r]) => r.error instanceof RuntimeUnavailable)) {
        throw new TickSkipped('container runtime unavailable');
      }
      if (failed.length > 0) throw new PartsFailed(Object.fromEntries(failed.map(([n, r]) => [n, r.error])));
      return results.reduce((sum, [, r]) => sum + (r.status === 'done' ? r.acted : 0), 0);
    },
  };
}
