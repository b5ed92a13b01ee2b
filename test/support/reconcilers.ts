// Support for the reconciler tests: a migrated database without a server (embedded PGlite or a new
// database on the PostgreSQL server, per the vitest project), a log of the named statements that
// reached it, and row fixtures with clocks set in the past.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createDatabase, type Database } from '../../services/db/client.js';
import { startEmbeddedPostgres } from '../../services/db/embedded.js';
import { migrate } from '../../services/db/migrate.js';
import { createLogger } from '../../services/log.js';
import type { FakeRuntime } from '../../services/runtime/fake.js';
import { LABEL_GENERATION, LABEL_MANAGED, LABEL_WORKSPACE_ID } from '../../services/runtime/types.js';
import type { WorkspaceStatus } from '../../services/workspaces/record.js';
import { createTestDatabase } from './database.js';

export const testLog = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

export interface ReconcilerTestDb {
  db: Database;
  /** Names (`/* name *\/`) of the statements sent since the last reset, in order. */
  statements: string[];
  stop(): Promise<void>;
}

/** Records the leading comment name of every query a pooled client sends. */
function observe(pool: pg.Pool, statements: string[]): void {
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      const first = args[0];
      const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '');
      const name = /\/\*\s*([A-Za-z0-9_-]+)\s*\*\//.exec(text)?.[1];
      if (name) statements.push(name);
      return query(...args);
    };
  });
}

export async function openTestDb(): Promise<ReconcilerTestDb> {
  const t = await createTestDatabase();
  const embedded = t.url === undefined ? await startEmbeddedPostgres(t.dataDir) : null;
  const url = t.url ?? embedded!.url;
  await migrate(url);
  const db = createDatabase({ url, embedded: embedded !== null });
  const statements: string[] = [];
  observe(db.pool, statements);
  return {
    db,
    statements,
    async stop() {
      await db.close();
      await embedded?.stop();
      await t.drop();
    },
  };
}

export interface WorkspaceFixture {
  id?: string;
  status?: WorkspaceStatus;
  runtime?: string;
  parentId?: string | null;
  generation?: number;
  heartbeatAgoS?: number | null;
  statusChangedAgoS?: number;
  lastActiveAgoS?: number;
  hibernationIdleMinutes?: number | null;
  activeTasks?: number;
  /** Default: the column's (2). */
  tier?: number;
}

export async function insertWorkspace(db: Database, f: WorkspaceFixture = {}): Promise<string> {
  const id = f.id ?? randomUUID();
  const ago = (s: number | null | undefined) => (s === null || s === undefined ? null : s);
  await db.prisma.$executeRaw`
    /* testInsertWorkspace */
    INSERT INTO workspaces (id, name, status, runtime, parent_id, generation, last_heartbeat_at, status_changed_at,
                            last_active_at, hibernation_idle_minutes, active_tasks, tier)
    VALUES (${id}::uuid, 'reconciler fixture', ${f.status ?? 'ONLINE'}::workspace_status, ${f.runtime ?? 'langgraph'},
            ${f.parentId ?? null}::uuid, ${f.generation ?? 1},
            now() - make_interval(secs => ${ago(f.heartbeatAgoS)}::float8),
            now() - make_interval(secs => ${f.statusChangedAgoS ?? 0}::float8),
            now() - make_interval(secs => ${f.lastActiveAgoS ?? 0}::float8),
            ${f.hibernationIdleMinutes ?? null}::int, ${f.activeTasks ?? 0}, ${f.tier ?? 2})`;
  return id;
}

export interface TokenFixture {
  createdAgoS?: number;
  usedAgoS?: number | null;
  revoked?: boolean;
}

export async function insertToken(db: Database, workspaceId: string, f: TokenFixture = {}): Promise<string> {
  const id = randomUUID();
  await db.prisma.$executeRaw`
    /* testInsertToken */
    INSERT INTO workspace_auth_tokens (id, workspace_id, token_hash, prefix, created_at, last_used_at, revoked_at)
    VALUES (${id}::uuid, ${workspaceId}::uuid, ${`hash-${id}`}, ${id.slice(0, 8)},
            now() - make_interval(secs => ${f.createdAgoS ?? 0}::float8),
            now() - make_interval(secs => ${f.usedAgoS ?? null}::float8),
            CASE WHEN ${f.revoked ?? false} THEN now() - interval '1 hour' END)`;
  return id;
}

export async function statusOf(db: Database, id: string): Promise<WorkspaceStatus> {
  const rows = await db.prisma.$queryRaw<{ status: WorkspaceStatus }[]>`
    /* testStatusOf */ SELECT status::text AS status FROM workspaces WHERE id = ${id}::uuid`;
  return rows[0]!.status;
}

export async function liveTokens(db: Database, workspaceId: string): Promise<string[]> {
  const rows = await db.prisma.$queryRaw<{ id: string }[]>`
    /* testLiveTokens */
    SELECT id::text FROM workspace_auth_tokens WHERE workspace_id = ${workspaceId}::uuid AND revoked_at IS NULL ORDER BY id`;
  return rows.map((r) => r.id);
}

export interface EventRow {
  workspace_id: string;
  type: string;
  status: string | null;
  previous_status: string | null;
  payload: Record<string, unknown>;
}

export async function eventsFor(db: Database, workspaceId: string): Promise<EventRow[]> {
  return db.prisma.$queryRaw<EventRow[]>`
    /* testEventsFor */
    SELECT workspace_id::text, type, status::text, previous_status::text, payload
      FROM workspace_events WHERE workspace_id = ${workspaceId}::uuid ORDER BY id`;
}

/** A prefix as the server names containers: the first 12 characters of the id. */
export const prefixOf = (id: string) => id.slice(0, 12);

/** A container the server would have made for this workspace and generation, in the fake runtime. */
export async function addManagedContainer(
  fake: FakeRuntime,
  workspaceId: string,
  generation: number,
  opts: { running?: boolean; name?: string } = {},
): Promise<string> {
  const { id } = await fake.create({
    name: opts.name ?? `ws-${prefixOf(workspaceId)}`,
    image: 'agent',
    env: {},
    labels: { [LABEL_MANAGED]: 'true', [LABEL_WORKSPACE_ID]: workspaceId, [LABEL_GENERATION]: String(generation) },
    configVolume: `ws-${prefixOf(workspaceId)}-configs`,
    volumeLabels: {},
    memoryBytes: 0,
    cpus: 0,
    readOnlyRoot: false,
    network: 'none',
  });
  if (opts.running ?? true) await fake.start(id);
  return id;
}
