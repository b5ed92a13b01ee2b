// A container death reported by the runtime's event stream, written as one guarded transition.
import { Prisma, type Database } from '../db/client.js';
import { appendEvents } from '../events/log.js';
import type { RuntimeEvent } from '../runtime/types.js';
import { EXTERNAL_RUNTIME } from '../workspaces/record.js';
import { statusEvent, transition, type Transitioned } from '../workspaces/transition.js';

/**
 * ONLINE/DEGRADED → OFFLINE, only while the row is still at the dead container's generation. From
 * PROVISIONING too: a container of the current generation that dies before its agent registered is a
 * death like any other (an agent that exits at once must reach the crash-loop limit, not wait for the
 * provision timeout). Server-initiated stops (pause, hibernate, restart, delete) change the status or
 * the generation first, so their containers' events never match.
 */
export async function markContainerEventDeath(db: Database, id: string, generation: number, e: RuntimeEvent): Promise<Transitioned | null> {
  return db.tx(async (tx) => {
    const t = await transition(tx, id, {
      to: 'OFFLINE',
      from: ['ONLINE', 'DEGRADED', 'PROVISIONING'],
      set: e.action === 'oom' ? Prisma.sql`, last_sample_error = 'the container ran out of memory'` : undefined,
      where: Prisma.sql`AND w.generation = ${generation} AND w.runtime <> ${EXTERNAL_RUNTIME}`,
    });
    const event = t && statusEvent(t, { source: 'container-event', action: e.action, exitCode: e.exitCode ?? null, generation });
    if (event) await appendEvents(tx, [event]);
    return t;
  });
}
