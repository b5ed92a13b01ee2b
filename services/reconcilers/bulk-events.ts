// Sweeps act on sets of any size (a liveness sweep after a network outage, a stale-token sweep after a
// volume wipe); appendEvents takes its events as arrays, so one statement carries them all. Same rules:
// the LAST statements of the transaction, under the events lock.
import type { Tx } from '../db/client.js';
import { appendEvents, type NewEvent } from '../events/log.js';

export async function appendEventsBulk(tx: Tx, events: readonly NewEvent[]): Promise<number> {
  return (await appendEvents(tx, [...events])).length;
}
