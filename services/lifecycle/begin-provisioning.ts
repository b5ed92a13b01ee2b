// The synchronous half of every (re)provisioning: restart, resume, wake and auto-restart. One guarded
// transition to PROVISIONING that increments the generation and clears the claim, plus the revocation
// of the live tokens, in the caller's transaction. The old agent is refused from the commit on, and
// the asynchronous provisioner carries the new generation (DESIGN.md).
import { Prisma, type Tx } from '../db/client.js';
import type { NewEvent } from '../events/log.js';
import { tokenFromRow } from '../tokens/records.js';
import { tokenRevokedEvents } from '../tokens/service.js';
import type { WorkspaceStatus } from '../workspaces/record.js';
import { statusEvents, transitionMany, type Transitioned } from '../workspaces/transition.js';

export const CRASH_LOOP_WINDOW_MIN = 10;
/** Automatic restarts allowed inside one window; the next one becomes FAILED. */
export const CRASH_LOOP_MAX_RESTARTS = 5;

export interface BeginOptions {
  from: readonly WorkspaceStatus[];
  /** Recorded in the status event's payload. */
  source: 'restart' | 'resume' | 'auto-restart' | 'runtime-returned';
  /** Extra guard, e.g. Prisma.sql`AND w.runtime <> 'external'`. */
  where?: Prisma.Sql;
}

export interface Begun {
  moved: Transitioned[];
  /** Status and TOKEN_REVOKED events; the caller appends them (with its own) last. */
  events: NewEvent[];
}

// An operator's restart or resume starts the crash-loop count afresh; an automatic restart counts
// inside a 10-minute window that begins with the first of them; provisioning again after a runtime
// outage leaves the count as it was (the outage says nothing about the workspace).
const manualCounter = Prisma.sql`, restart_count = 0, restart_window_started_at = NULL`;
const automaticCounter = Prisma.sql`,
  restart_count = CASE WHEN w.restart_window_started_at IS NULL
                         OR w.restart_window_started_at < now() - make_interval(mins => ${CRASH_LOOP_WINDOW_MIN})
                       THEN 1 ELSE w.restart_count + 1 END,
  restart_window_started_at = CASE WHEN w.restart_window_started_at IS NULL
                         OR w.restart_window_started_at < now() - make_interval(mins => ${CRASH_LOOP_WINDOW_MIN})
                       THEN now() ELSE w.restart_window_started_at END`;

export async function beginProvisioning(tx: Tx, ids: readonly string[], opts: BeginOptions): Promise<Begun> {
  const moved = await transitionMany(tx, ids, {
    to: 'PROVISIONING',
    from: opts.from,
    set: Prisma.sql`, generation = w.generation + 1, provision_claimed_by = NULL, provision_claimed_at = NULL, provision_started_at = NULL,
      active_tasks = 0, current_task = NULL, last_sample_error = NULL, runtime_state = '', last_active_at = now()
      ${opts.source === 'auto-restart' ? automaticCounter : opts.source === 'runtime-returned' ? Prisma.empty : manualCounter}`,
    where: opts.where,
  });
  if (moved.length === 0) return { moved, events: [] };
  const revoked = await tx.sql.$queryRaw<Record<string, unknown>[]>`
    /* revokeLiveTokensForProvisioning */
    UPDATE workspace_auth_tokens SET revoked_at = now()
     WHERE workspace_id = ANY(${moved.map((m) => m.workspace.id)}::uuid[]) AND revoked_at IS NULL
    RETURNING *`;
  const events = [
    ...moved.flatMap((m) => statusEvents([m], { source: opts.source, generation: m.workspace.generation })),
    ...tokenRevokedEvents(revoked.map(tokenFromRow), opts.source),
  ];
  return { moved, events };
}

/** A crash-looping OFFLINE workspace: its next automatic restart would exceed the allowance. */
export const crashLoopExhausted = Prisma.sql`AND w.restart_window_started_at >= now() - make_interval(mins => ${CRASH_LOOP_WINDOW_MIN})
  AND w.restart_count >= ${CRASH_LOOP_MAX_RESTARTS}`;
