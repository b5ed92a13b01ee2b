// Fixtures for the agent-endpoint tests: workspaces seeded in any status (some statuses cannot be
// reached through the API quickly, e.g. HIBERNATING), tokens, real HTTP calls and table checksums.
import { mintToken } from '../../services/tokens/secret-token.js';
import type { WorkspaceStatus } from '../../services/workspaces/record.js';
import type { TestServer } from './server.js';

export interface Seeded {
  id: string;
  token: string;
}

/** A workspace row in `status` with one live token (none with `token: false`). */
export async function seedWorkspace(
  s: TestServer,
  status: WorkspaceStatus,
  opts: { token?: boolean; runtime?: string; name?: string } = {},
): Promise<Seeded> {
  const rows = await s.db.prisma.$queryRaw<{ id: string }[]>`
    /* testSeedWorkspace */
    INSERT INTO workspaces (name, runtime, status, generation)
    VALUES (${opts.name ?? `ws-${status.toLowerCase()}`}, ${opts.runtime ?? 'external'}, ${status}::workspace_status, 1)
    RETURNING id::text`;
  const id = rows[0]!.id;
  const token = opts.token === false ? '' : await seedToken(s, id);
  return { id, token };
}

export async function seedToken(s: TestServer, workspaceId: string): Promise<string> {
  const t = mintToken();
  await s.db.prisma.$executeRaw`
    /* testSeedToken */
    INSERT INTO workspace_auth_tokens (workspace_id, token_hash, prefix) VALUES (${workspaceId}::uuid, ${t.hash}, ${t.prefix})`;
  return t.plaintext;
}

export async function seedOrgToken(s: TestServer): Promise<string> {
  const t = mintToken();
  await s.db.prisma.$executeRaw`
    /* testSeedOrgToken */
    INSERT INTO org_api_tokens (name, token_hash, prefix) VALUES ('test', ${t.hash}, ${t.prefix})`;
  return t.plaintext;
}

/** Moves a seeded row, guarded on its current status like every transition. */
export async function setStatus(s: TestServer, id: string, from: WorkspaceStatus, to: WorkspaceStatus): Promise<void> {
  const n = await s.db.prisma.$executeRaw`
    /* testSetStatus */
    UPDATE workspaces SET status = ${to}::workspace_status WHERE id = ${id}::uuid AND status = ${from}::workspace_status`;
  if (n !== 1) throw new Error(`workspace ${id} was not ${from}`);
}

export interface WorkspaceRow {
  status: WorkspaceStatus;
  url: string | null;
  agent_card: unknown;
  active_tasks: number;
  current_task: string | null;
  last_error_rate: number;
  last_sample_error: string | null;
  uptime_seconds: number;
  runtime_state: string;
  last_heartbeat_at: Date | null;
  last_active_at: Date;
}

export async function readRow(s: TestServer, id: string): Promise<WorkspaceRow> {
  const rows = await s.db.prisma.$queryRaw<WorkspaceRow[]>`
    /* testReadWorkspace */
    SELECT status::text AS status, url, agent_card, active_tasks, current_task, last_error_rate, last_sample_error,
           uptime_seconds, runtime_state, last_heartbeat_at, last_active_at
      FROM workspaces WHERE id = ${id}::uuid`;
  return rows[0]!;
}

export interface EventRow {
  type: string;
  status: string | null;
  previous_status: string | null;
  payload: Record<string, unknown>;
}

export async function eventsOf(s: TestServer, id: string): Promise<EventRow[]> {
  return s.db.prisma.$queryRaw<EventRow[]>`
    /* testEventsOf */
    SELECT type, status::text AS status, previous_status::text AS previous_status, payload
      FROM workspace_events WHERE workspace_id = ${id}::uuid ORDER BY id`;
}

export async function liveTokenCount(s: TestServer, id: string): Promise<number> {
  const rows = await s.db.prisma.$queryRaw<{ n: number }[]>`
    /* testLiveTokenCount */
    SELECT count(*)::int AS n FROM workspace_auth_tokens WHERE workspace_id = ${id}::uuid AND revoked_at IS NULL`;
  return rows[0]!.n;
}

/** A digest of every row of every table the agent endpoints could touch. */
export async function tablesChecksum(s: TestServer): Promise<string> {
  const rows = await s.db.prisma.$queryRaw<{ sum: string }[]>`
    /* testTablesChecksum */
    SELECT md5(
      coalesce((SELECT string_agg(w::text, '|' ORDER BY w.id) FROM workspaces w), '') ||
      coalesce((SELECT string_agg(t::text, '|' ORDER BY t.id) FROM workspace_auth_tokens t), '') ||
      coalesce((SELECT string_agg(o::text, '|' ORDER BY o.id) FROM org_api_tokens o), '') ||
      coalesce((SELECT string_agg(e::text, '|' ORDER BY e.id) FROM workspace_events e), '')
    ) AS sum`;
  return rows[0]!.sum;
}

export interface AgentResponse {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

/** A request to an agent endpoint over real HTTP. `body` objects are sent as JSON; strings as is. */
export async function agentCall(
  s: TestServer,
  path: string,
  opts: { method?: string; body?: unknown; token?: string | null; contentType?: string | null; headers?: Record<string, string> } = {},
): Promise<AgentResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.contentType !== null) headers['content-type'] = opts.contentType ?? 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const method = opts.method ?? (opts.body === undefined ? 'GET' : 'POST');
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const res = await s.http(path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

export const heartbeatBody = (id: string, extra: Record<string, unknown> = {}) => ({
  workspace_id: id,
  error_rate: 0,
  sample_error: '',
  active_tasks: 0,
  uptime_seconds: 10,
  current_task: '',
  runtime_state: '',
  ...extra,
});

export const registerBody = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  url: 'http://127.0.0.1:8000',
  agent_card: { name: 'test-agent' },
  ...extra,
});
