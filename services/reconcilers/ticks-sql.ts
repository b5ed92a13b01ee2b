// reconciler_ticks: the leader's record of each loop, so every instance answers `subsystems` truthfully.
import type { Sql } from './sweeper-sql.js';

export interface TickRecord {
  loop: string;
  instanceId: string;
  /** null = the tick succeeded; otherwise why it failed or could not run (last_tick_at is then kept). */
  error: string | null;
  items: number;
  durationMs: number;
}

export async function recordTick(sql: Sql, t: TickRecord): Promise<void> {
  const ok = t.error === null;
  await sql.$executeRaw`
    /* recordReconcilerTick */
    INSERT INTO reconciler_ticks (loop_name, last_tick_at, leader_instance, last_error, items_acted, duration_ms, updated_at)
    VALUES (${t.loop}, CASE WHEN ${ok} THEN now() END, ${t.instanceId}, ${t.error}, ${t.items}::int, ${t.durationMs}::int, now())
    ON CONFLICT (loop_name) DO UPDATE
       SET last_tick_at = COALESCE(EXCLUDED.last_tick_at, reconciler_ticks.last_tick_at),
           leader_instance = EXCLUDED.leader_instance,
           last_error = EXCLUDED.last_error,
           items_acted = EXCLUDED.items_acted,
           duration_ms = EXCLUDED.duration_ms,
           updated_at = now()`;
}

export interface TickRow {
  loop_name: string;
  last_tick_at: Date | null;
  /** Whether last_tick_at is within the loop's healthy window, by the database clock. */
  recent: boolean;
}

/** The recorded ticks of these loops, each judged against its own window (seconds). */
export function readTicks(sql: Sql, loops: readonly string[], windowsS: readonly number[]): Promise<TickRow[]> {
  return sql.$queryRaw<TickRow[]>`
    /* readReconcilerTicks */
    SELECT t.loop_name, t.last_tick_at,
           COALESCE(t.last_tick_at > now() - make_interval(secs => l.window_s), false) AS recent
      FROM unnest(${[...loops]}::text[], ${[...windowsS]}::float8[]) AS l(name, window_s)
      JOIN reconciler_ticks t ON t.loop_name = l.name`;
}
