// Event retention: events older than EVENT_RETENTION_DAYS are deleted. Not one of the five loops that
// `subsystems` reports, but led and supervised like them, so one instance deletes.
import type { EventService } from '../events/service.js';
import type { ReconcileLoop } from './loop.js';

/** Often enough that nothing outlives its retention by more than a twenty-fourth, at most hourly. */
export function retentionIntervalMs(retentionDays: number): number {
  const retentionMs = retentionDays * 86_400_000;
  return Math.min(3_600_000, Math.max(1_000, Math.round(retentionMs / 24)));
}

export function createRetentionLoop(events: Pick<EventService, 'deleteExpired'>, retentionDays: number): ReconcileLoop {
  return {
    name: 'event-retention',
    intervalMs: retentionIntervalMs(retentionDays),
    needsRuntime: false,
    tick: () => events.deleteExpired(),
  };
}
