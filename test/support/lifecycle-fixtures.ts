// Fixtures for the lifecycle tests: GraphQL documents of API.md, creating workspaces through the API,
// and reading rows and events straight from the database to check what a mutation wrote.
import type { WorkspaceStatus } from '../../services/workspaces/record.js';
import type { TestServer } from './server.js';

export const CREATE = `mutation($input: CreateWorkspaceInput!) {
  createWorkspace(input: $input) {
    __typename
    ... on CreateWorkspaceSuccess { token workspace { id status } }
    ... on Error { message }
  }
}`;

const ERROR_FIELDS = `__typename ... on Error { message }`;
const PARENT = `... on ParentPausedError { parent { id } }`;
const TASKS = `... on ActiveTasksError { activeTasks }`;

export const RESTART = `mutation($id: ID!, $input: RestartWorkspaceInput) {
  restartWorkspace(id: $id, input: $input) { ${ERROR_FIELDS} ${PARENT} ... on RestartWorkspaceSuccess { workspace { id status } } }
}`;
export const PAUSE = `mutation($id: ID!) {
  pauseWorkspace(id: $id) { ${ERROR_FIELDS} ... on PauseWorkspaceSuccess { pausedCount workspace { id status } } }
}`;
export const RESUME = `mutation($id: ID!) {
  resumeWorkspace(id: $id) { ${ERROR_FIELDS} ${PARENT} ... on ResumeWorkspaceSuccess { resumedCount workspace { id status } } }
}`;
export const HIBERNATE = `mutation($id: ID!, $force: Boolean) {
  hibernateWorkspace(id: $id, force: $force) { ${ERROR_FIELDS} ${TASKS} ... on HibernateWorkspaceSuccess { workspace { id status } } }
}`;
export const DELETE = `mutation($id: ID!) {
  deleteWorkspace(id: $id, confirm: true) { __typename ... on DeleteWorkspaceSuccess { removedCount } ... on Error { message } }
}`;

export interface CreateOptions {
  name?: string;
  runtime?: string;
  tier?: number;
  image?: string;
  parentId?: string;
  secrets?: Array<{ key: string; value: string }>;
}

/** Creates a workspace through the API; returns its id (and the external agent's token). */
export async function createWorkspace(s: TestServer, opts: CreateOptions = {}): Promise<{ id: string; token: string | null }> {
  const r = await s.gql(CREATE, { input: { name: opts.name ?? 'lifecycle test', ...opts } });
  const res = r.data?.createWorkspace;
  if (res?.__typename !== 'CreateWorkspaceSuccess') throw new Error(`createWorkspace failed: ${JSON.stringify(r)}`);
  return { id: res.workspace.id, token: res.token };
}

export interface Row {
  status: WorkspaceStatus;
  generation: number;
  last_sample_error: string | null;
  restart_count: number;
  provision_claimed_by: string | null;
}

export async function row(s: TestServer, id: string): Promise<Row> {
  const rows = await s.db.prisma.$queryRaw<Row[]>`
    /* testLifecycleRow */
    SELECT status::text AS status, generation, last_sample_error, restart_count, provision_claimed_by
      FROM workspaces WHERE id = ${id}::uuid`;
  if (!rows[0]) throw new Error(`no workspace ${id}`);
  return rows[0];
}

/** Seeds a status (setup for states the API reaches only through agents or time). */
export async function forceStatus(s: TestServer, id: string, status: WorkspaceStatus, extra: { activeTasks?: number } = {}): Promise<void> {
  await s.db.prisma.$executeRaw`
    /* testForceStatus */
    UPDATE workspaces SET status = ${status}::workspace_status, active_tasks = ${extra.activeTasks ?? 0}
     WHERE id = ${id}::uuid`;
}

export interface EventRow {
  id: string;
  type: string;
  status: string | null;
  previous_status: string | null;
  payload: Record<string, unknown>;
}

export async function eventsOf(s: TestServer, id: string, afterId = '0'): Promise<EventRow[]> {
  return s.db.prisma.$queryRaw<EventRow[]>`
    /* testEventsOf */
    SELECT e.id::text AS id, e.type, e.status::text AS status, e.previous_status::text AS previous_status, e.payload
      FROM workspace_events e
     WHERE e.workspace_id = ${id}::uuid AND e.id > ${afterId}::bigint ORDER BY e.id`;
}

export async function lastEventId(s: TestServer): Promise<string> {
  const rows = await s.db.prisma.$queryRaw<{ id: string }[]>`
    /* testLastEventId */
    SELECT coalesce(max(id), 0)::text AS id FROM workspace_events`;
  return rows[0]!.id;
}

export async function liveTokenCount(s: TestServer, id: string): Promise<number> {
  const rows = await s.db.prisma.$queryRaw<{ n: number }[]>`
    /* testLiveTokenCount */
    SELECT count(*)::int AS n FROM workspace_auth_tokens WHERE workspace_id = ${id}::uuid AND revoked_at IS NULL`;
  return rows[0]!.n;
}

/** Polls until `check` returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The viewer kind a token gets (WORKSPACE when valid, null when refused with 401). */
export async function viewerKind(s: TestServer, token: string): Promise<string | null> {
  const r = await s.gql('{ viewer { kind } }', {}, token);
  return r.status === 401 ? null : (r.data?.viewer?.kind ?? null);
}

/** What a heartbeat with this token gets: 200 accepted, 401 refused. */
export async function heartbeatStatus(s: TestServer, workspaceId: string, token: string): Promise<number> {
  const res = await s.http('/registry/heartbeat', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ workspace_id: workspaceId, error_rate: 0, sample_error: '', active_tasks: 0, uptime_seconds: 1, current_task: '', runtime_state: '' }),
  });
  return res.status;
}
