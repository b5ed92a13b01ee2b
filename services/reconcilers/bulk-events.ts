// appendEvents (events/log.ts) for sets of any size. A sweep can act on thousands of rows at once (a
// liveness sweep after a network outage, a stale-token sweep after a volume wipe), and a VALUES list
// of five parameters per event stops at PostgreSQL's 65,535 bind parameters; here the events travel as
// five arrays, so the statement count stays the same whatever the size. Same rules as appendEvents:
// the LAST statements of the transaction, under the events lock, then pg_notify and the in-process wake.
import type { Tx } from '../db/client.js';
import { EVENTS_CHANNEL, EVENTS_LOCK_KEY, type NewEvent } from '../events/log.js';

export async function appendEventsBulk(tx: Tx, events: readonly NewEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  await tx.sql.$executeRaw`/* lockEvents */ SELECT pg_advisory_xact_lock(${EVENTS_LOCK_KEY}::bigint)`;
  const [row] = await tx.sql.$queryRaw<{ max_id: bigint | string }[]>`
    /* insertEventsBulk */
    WITH inserted AS (
      INSERT INTO workspace_events (workspace_id, type, status, previous_status, payload)
      SELECT * FROM unnest(
        ${events.map((e) => e.workspaceId)}::uuid[],
        ${events.map((e) => e.type)}::text[],
        ${events.map((e) => e.status ?? null)}::workspace_status[],
        ${events.map((e) => e.previousStatus ?? null)}::workspace_status[],
        ${events.map((e) => JSON.stringify(e.payload ?? {}))}::jsonb[])
      RETURNING id)
    SELECT max(id) AS max_id FROM inserted`;
  const maxId = BigInt(row!.max_id);
  if (tx.notify) {
    // Ids only: listeners read the rows from the log (DESIGN.md).
    await tx.sql.$executeRaw`/* notifyEvents */ SELECT pg_notify(${EVENTS_CHANNEL}, ${maxId.toString()})`;
  }
  tx.afterCommit(() => tx.eventsCommitted(maxId));
  return events.length;
}
