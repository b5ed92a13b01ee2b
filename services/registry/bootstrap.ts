// The register bootstrap path (REGISTRY_BOOTSTRAP=true only, API.md): a register without a token
// mints the workspace's first token, but only for a workspace that has no live token and is waiting
// for an agent (AWAITING_AGENT, OFFLINE or FAILED).
//
// Race-free: the row lock is taken first, in its own statement, so the guarded transition that follows
// reads the token table in a snapshot taken after any concurrent mint (which locks the same row) has
// committed. The transition moves the row out of the eligible statuses, so of two concurrent bootstrap
// registers the second finds ONLINE and gets 401: at most one token is minted.
import { Prisma, type Database } from '../db/client.js';
import { appendEvents } from '../events/log.js';
import type { TokenService } from '../tokens/service.js';
import { statusEvent, transition } from '../workspaces/transition.js';
import type { WorkspaceStatus } from '../workspaces/record.js';

export const BOOTSTRAP_FROM: readonly WorkspaceStatus[] = ['AWAITING_AGENT', 'OFFLINE', 'FAILED'];

export type BootstrapOutcome =
  | { kind: 'ok'; body: { status: 'registered'; auth_token: string } }
  | { kind: 'not_found'; workspaceId: string }
  /** Not eligible: answered like any register without a token. */
  | { kind: 'unauthorized' };

export async function bootstrapRegister(
  db: Database,
  tokens: TokenService,
  input: { id: string; url: string; card: string },
): Promise<BootstrapOutcome> {
  return db.tx(async (tx) => {
    const locked = await tx.sql.$queryRaw<{ status: WorkspaceStatus }[]>`
      /* lockWorkspaceForBootstrap */
      SELECT status::text AS status FROM workspaces WHERE id = ${input.id}::uuid FOR UPDATE`;
    const status = locked[0]?.status;
    if (!status || status === 'REMOVED') return { kind: 'not_found', workspaceId: input.id };
    const moved = await transition(tx, input.id, {
      to: 'ONLINE',
      from: BOOTSTRAP_FROM,
      set: Prisma.sql`, url = ${input.url}, agent_card = ${input.card}::jsonb, last_heartbeat_at = now()`,
      where: Prisma.sql`AND NOT EXISTS (SELECT 1 FROM workspace_auth_tokens t
                                          WHERE t.workspace_id = w.id AND t.revoked_at IS NULL)`,
    });
    if (!moved) return { kind: 'unauthorized' };
    const issued = await tokens.issueForProvisioning(tx, input.id, 'bootstrap');
    const change = statusEvent(moved, { source: 'register' });
    await appendEvents(tx, [issued.event, ...(change ? [change] : [])]);
    return { kind: 'ok', body: { status: 'registered', auth_token: issued.token } };
  });
}
