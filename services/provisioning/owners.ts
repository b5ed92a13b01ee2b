// Whether the instance named in a provisioning claim is alive (API.md "Outages"): on a PostgreSQL
// server, an instance holds two sessions of its own for as long as it runs (the event listener and the
// reconciler leadership, not pool connections, which idle out), named after its instance id, and
// PostgreSQL drops them when the process dies. Embedded mode is one process: no other instance exists,
// so a claim held by any other id is dead.
import type { Database } from '../db/client.js';
import { listenerApplicationName } from '../events/listener.js';
import { leadershipApplicationName } from '../reconcilers/leadership.js';

/** The pg_stat_activity names that show `instanceId` is alive. */
export function instanceSessionNames(instanceId: string): string[] {
  return [listenerApplicationName(instanceId), leadershipApplicationName(instanceId)];
}

/** The owners among `owners` that have a live session now (always empty on embedded PGlite). */
export async function liveOwners(db: Database, owners: Iterable<string>): Promise<Set<string>> {
  const wanted = [...new Set(owners)];
  if (db.embedded || wanted.length === 0) return new Set();
  const names = wanted.flatMap(instanceSessionNames);
  const rows = await db.query<{ application_name: string }>`
    /* liveInstanceSessions */
    SELECT DISTINCT application_name FROM pg_stat_activity WHERE application_name = ANY(${names}::text[])`;
  const present = new Set(rows.map((r) => r.application_name));
  return new Set(wanted.filter((o) => instanceSessionNames(o).some((n) => present.has(n))));
}
