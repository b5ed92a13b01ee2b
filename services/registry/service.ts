// The agent protocol (API.md "Agent endpoints"): register, heartbeat, update-card and state. Inputs
// arrive validated (bodies.ts); each call answers with an outcome the REST layer maps to a status code.
import type { Viewer } from '../auth/viewer.js';
import { canReadWorkspace } from '../auth/viewer.js';
import { Prisma } from '../db/client.js';
import type { ServiceDeps } from '../deps.js';
import { appendEvents, statusEventType, type NewEvent } from '../events/log.js';
import type { ActivityHub } from '../activity/hub.js';
import type { TokenService } from '../tokens/service.js';
import { hashToken, parseBearer } from '../tokens/secret-token.js';
import { isUuid, type WorkspaceStatus } from '../workspaces/record.js';
import { agentWrite, agentWriteOnPool, refusalMessage, type AgentWriteArgs, type AgentWriteResult } from './agent-write.js';
import type { HeartbeatInput, RegisterInput, UpdateCardInput } from './bodies.js';
import { bootstrapRegister } from './bootstrap.js';

export type AgentOutcome =
  | { kind: 'ok'; body: Record<string, unknown> }
  | { kind: 'not_found'; workspaceId: string }
  | { kind: 'unauthorized' }
  | { kind: 'conflict'; message: string }
  /** The row kept changing under us (several concurrent restarts): the agent retries. */
  | { kind: 'busy' };

export interface RegistryService {
  register(input: RegisterInput, authorization: string | undefined): Promise<AgentOutcome>;
  heartbeat(input: HeartbeatInput, authorization: string | undefined): Promise<AgentOutcome>;
  updateCard(input: UpdateCardInput, authorization: string | undefined): Promise<AgentOutcome>;
  /**
   * GET /workspaces/:id/state. The workspace's own token is checked here; `viewer` (admin and org
   * tokens) is resolved only for a token that is no workspace's, after the 404.
   */
  state(workspaceId: string, authorization: string | undefined, viewer: () => Promise<Viewer | null>): Promise<AgentOutcome>;
}

const MAX_ATTEMPTS = 5;

/** Heartbeat thresholds (API.md): degrade at ≥ 0.5 or wedged, recover below 0.1 and not wedged. */
export function heartbeatTarget(h: Pick<HeartbeatInput, 'error_rate' | 'runtime_state'>) {
  const wedged = h.runtime_state === 'wedged';
  const degraded = wedged || h.error_rate >= 0.5;
  const recovered = !wedged && h.error_rate < 0.1;
  return {
    otherwise: (degraded ? 'DEGRADED' : 'ONLINE') as WorkspaceStatus,
    fromDegraded: (recovered ? 'ONLINE' : 'DEGRADED') as WorkspaceStatus,
  };
}

export function createRegistryService(deps: ServiceDeps & { tokens: TokenService; activity: Pick<ActivityHub, 'changed'> }): RegistryService {
  const { db, config } = deps;

  /** Tries the write outside a transaction first (the steady-state heartbeat needs no event); a write
   * that must record an event reruns inside one, with the events appended last. */
  async function write(
    args: Omit<AgentWriteArgs, 'onlyWithoutEvent'>,
    events: (w: Extract<AgentWriteResult, { kind: 'written' }>) => NewEvent[],
    body: Record<string, unknown>,
    needsEvent = false,
  ): Promise<AgentOutcome> {
    let inTx = needsEvent;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const r = inTx
        ? await db.tx(async (tx) => {
            const res = await agentWrite(tx.sql, { ...args, onlyWithoutEvent: false });
            if (res.kind === 'written') await appendEvents(tx, events(res));
            return res;
          })
        : await agentWriteOnPool(db, { ...args, onlyWithoutEvent: true });
      switch (r.kind) {
        case 'written':
          // Committed (outside a transaction, or after db.tx resolved): tell workspaceActivity.
          if (r.activityChanged) deps.activity.changed(args.workspaceId);
          return { kind: 'ok', body };
        case 'not_found':
          return { kind: 'not_found', workspaceId: args.workspaceId };
        case 'unauthorized':
          return { kind: 'unauthorized' };
        case 'refused':
          return { kind: 'conflict', message: refusalMessage(r.status) };
        case 'needs_event':
          inTx = true;
          break;
        case 'raced':
          break;
      }
    }
    return { kind: 'busy' };
  }

  /** The token hash for the guarded statement; a malformed header and no header both match nothing. */
  function tokenHashOf(authorization: string | undefined): string | null {
    const parsed = parseBearer(authorization);
    return parsed.kind === 'token' ? hashToken(parsed.token) : null;
  }

  function statusChange(workspaceId: string, w: { previousStatus: WorkspaceStatus; status: WorkspaceStatus }, source: string): NewEvent[] {
    if (w.previousStatus === w.status) return [];
    return [{ workspaceId, type: statusEventType(w.status), status: w.status, previousStatus: w.previousStatus, payload: { source } }];
  }

  return {
    async register(input, authorization) {
      const id = input.id;
      if (!isUuid(id)) return { kind: 'not_found', workspaceId: id };
      const card = JSON.stringify(input.agent_card);
      // Without a token, the bootstrap path answers alone: 404 as usual, 401 when not eligible.
      if (!authorization && config.registryBootstrap) return bootstrapRegister(db, deps.tokens, { id, url: input.url, card });
      return write(
        {
          workspaceId: id,
          tokenHash: tokenHashOf(authorization),
          target: { fromDegraded: 'DEGRADED', otherwise: 'ONLINE' },
          set: Prisma.sql`, url = ${input.url}, agent_card = ${card}::jsonb, last_heartbeat_at = now()`,
          card,
        },
        (w) => [
          ...(w.cardChanged ? [{ workspaceId: id, type: 'AGENT_CARD_UPDATED', payload: { source: 'register' } }] : []),
          ...statusChange(id, w, 'register'),
        ],
        { status: 'registered' },
      );
    },

    async heartbeat(h, authorization) {
      const id = h.workspace_id;
      if (!isUuid(id)) return { kind: 'not_found', workspaceId: id };
      return write(
        {
          workspaceId: id,
          tokenHash: tokenHashOf(authorization),
          target: heartbeatTarget(h),
          set: Prisma.sql`,
             last_error_rate = ${h.error_rate}::float8, last_sample_error = ${h.sample_error},
             active_tasks = ${h.active_tasks}::int, uptime_seconds = ${h.uptime_seconds}::int,
             current_task = ${h.current_task}, runtime_state = ${h.runtime_state},
             last_heartbeat_at = now(),
             last_active_at = CASE WHEN ${h.active_tasks}::int > 0 THEN now() ELSE w.last_active_at END`,
          card: null,
          // The fields workspaceActivity reports, compared with what this heartbeat writes.
          activity: Prisma.sql`(w.active_tasks, w.current_task, w.last_error_rate, w.last_sample_error, w.uptime_seconds)
            IS DISTINCT FROM (${h.active_tasks}::int, ${h.current_task}::text, ${h.error_rate}::float8, ${h.sample_error}::text, ${h.uptime_seconds}::int)`,
        },
        (w) => statusChange(id, w, 'heartbeat'),
        { status: 'ok' },
      );
    },

    async updateCard(input, authorization) {
      const id = input.workspace_id;
      if (!isUuid(id)) return { kind: 'not_found', workspaceId: id };
      const card = JSON.stringify(input.agent_card);
      return write(
        { workspaceId: id, tokenHash: tokenHashOf(authorization), target: null, set: Prisma.sql`, agent_card = ${card}::jsonb`, card },
        () => [{ workspaceId: id, type: 'AGENT_CARD_UPDATED', payload: { source: 'update-card' } }],
        { status: 'updated' },
        true,
      );
    },

    async state(workspaceId, authorization, viewer) {
      if (!isUuid(workspaceId)) return { kind: 'not_found', workspaceId };
      // Ids compare as uuids in SQL; the viewer's id is the canonical lower-case text.
      const id = workspaceId.toLowerCase();
      const hash = tokenHashOf(authorization);
      // One statement: the workspace (404 first), whether the token is this workspace's (bumping its
      // last_used_at), and whether it is some other workspace's (refused without touching it).
      const rows = await db.prisma.$queryRaw<{ status: WorkspaceStatus | null; own: boolean; foreign: boolean }[]>`
        /* agentWorkspaceState */
        WITH w AS (
          SELECT status FROM workspaces WHERE id = ${id}::uuid
        ), own AS (
          SELECT t.id, t.last_used_at FROM workspace_auth_tokens t
           WHERE t.token_hash = ${hash} AND t.workspace_id = ${id}::uuid AND t.revoked_at IS NULL
             AND EXISTS (SELECT 1 FROM w WHERE w.status <> 'REMOVED')
        ), bump AS (
          UPDATE workspace_auth_tokens SET last_used_at = now()
           WHERE id IN (SELECT id FROM own WHERE last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')
        )
        SELECT (SELECT status::text FROM w) AS status, EXISTS (SELECT 1 FROM own) AS own,
               EXISTS (SELECT 1 FROM workspace_auth_tokens t WHERE t.token_hash = ${hash}) AS foreign`;
      const r = rows[0]!;
      if (!r.status || r.status === 'REMOVED') return { kind: 'not_found', workspaceId };
      if (!r.own) {
        // Admin and org tokens may read any state; another workspace's token may not.
        if (r.foreign) return { kind: 'unauthorized' };
        const v = await viewer();
        if (!v || !canReadWorkspace(v, id)) return { kind: 'unauthorized' };
      }
      return {
        kind: 'ok',
        body: { workspace_id: id, status: r.status.toLowerCase(), paused: r.status === 'PAUSED', deleted: false },
      };
    },
  };
}
