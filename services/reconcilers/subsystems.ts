// `subsystems` (API.md "Reconcilers"): the five loops, always. lastTickAt and healthy come from
// reconciler_ticks, where whichever instance leads records each tick, so every instance answers the
// same; `leader` is this instance's own view.
import type { Database } from '../db/client.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { LOOP_NAMES, type LoopName } from './loop.js';
import { readTicks } from './ticks-sql.js';

export interface SubsystemStatus {
  name: LoopName;
  lastTickAt: Date | null;
  healthy: boolean;
  leader: boolean;
}

export interface SubsystemsDeps {
  db: Database;
  runtime: ContainerRuntime;
  intervalMs(loop: LoopName): number;
  needsRuntime(loop: LoopName): boolean;
  startedAt(loop: LoopName): Date | null;
  leads(loop: LoopName): boolean;
}

/** Healthy: a tick within three intervals, or the loop started less than that long ago. */
export const HEALTHY_WINDOW_INTERVALS = 3;

export async function readSubsystems(deps: SubsystemsDeps): Promise<SubsystemStatus[]> {
  const windowMs = (loop: LoopName) => HEALTHY_WINDOW_INTERVALS * deps.intervalMs(loop);
  const rows = await readTicks(deps.db.prisma, LOOP_NAMES, LOOP_NAMES.map((l) => windowMs(l) / 1000));
  const byName = new Map(rows.map((r) => [r.loop_name, r]));
  // This instance's circuit: its background probe keeps it current, and no request waits for a runtime.
  const runtimeUp = deps.runtime.kind !== 'none' && deps.runtime.available();
  return LOOP_NAMES.map((name) => {
    const row = byName.get(name);
    const started = deps.startedAt(name);
    const fresh = row?.recent === true || (started !== null && Date.now() - started.getTime() < windowMs(name));
    return {
      name,
      lastTickAt: row?.last_tick_at ?? null,
      healthy: fresh && (!deps.needsRuntime(name) || runtimeUp),
      leader: deps.leads(name),
    };
  });
}
