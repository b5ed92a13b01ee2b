// What every fault test asserts once the fault is over (issue 11): every workspace ONLINE; exactly one
// container per workspace, running, of the workspace's current generation and labeled with this
// deployment, whose token file holds the workspace's only live token; no other container or volume
// of this deployment; and an exact history of status events. Read the way an operator would: straight
// from the database and the Docker daemon.
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import pg from 'pg';
import { extract } from 'tar-stream';
import { eventually } from '../../support/lifecycle-fixtures.js';
import { LABEL_DEPLOYMENT, LABEL_GENERATION, LABEL_WORKSPACE_ID, configVolumeFor } from '../../../services/runtime/types.js';

export interface Sql {
  rows<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** A pg client that reconnects for every statement (the database may have been restarted between two). */
export function sqlOn(url: string): Sql {
  return {
    async rows<T>(text: string, params: unknown[] = []) {
      const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
      c.on('error', () => {});
      await c.connect();
      try {
        return (await c.query(text, params)).rows as T[];
      } finally {
        await c.end().catch(() => {});
      }
    },
    async close() {},
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export { eventually as until };

export async function deploymentIdOf(sql: Sql): Promise<string> {
  return (await sql.rows<{ id: string }>(`SELECT deployment_id::text AS id FROM platform_settings WHERE id = 1`))[0]!.id;
}

export async function eventCursor(sql: Sql): Promise<string> {
  return (await sql.rows<{ id: string }>(`SELECT COALESCE(max(id), 0)::text AS id FROM workspace_events`))[0]!.id;
}

/** Waits until every workspace is ONLINE; returns how long that took from `since` (ms). */
export async function allOnline(sql: Sql, ids: readonly string[], since: number, timeoutMs: number): Promise<number> {
  await eventually(
    async () => {
      const rows = await sql.rows<{ n: number }>(`SELECT count(*)::int AS n FROM workspaces WHERE id = ANY($1::uuid[]) AND status = 'ONLINE'`, [ids]);
      return rows[0]!.n === ids.length ? true : undefined;
    },
    timeoutMs,
    `${ids.length} workspaces ONLINE`,
  );
  return Date.now() - since;
}

export async function tokenFileOf(docker: Docker, containerId: string): Promise<string> {
  const archive = (await docker.getContainer(containerId).getArchive({ path: '/configs/.auth_token' })) as NodeJS.ReadableStream;
  const ex = extract();
  let content = '';
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (_header, stream, next) => {
      stream.on('data', (d: unknown) => (content += String(d)));
      stream.on('end', next);
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  archive.pipe(ex);
  await done;
  return content.trim();
}

export interface ConvergenceCheck {
  sql: Sql;
  docker: Docker;
  deploymentId: string;
  ids: readonly string[];
}

/**
 * The state every fault must end in. Throws describing the first difference, so it can be polled
 * (a removal in progress settles a moment after the ONLINE write).
 */
export async function assertConverged(c: ConvergenceCheck): Promise<void> {
  const rows = await c.sql.rows<{ id: string; status: string; generation: number }>(
    `SELECT id::text, status::text, generation FROM workspaces WHERE id = ANY($1::uuid[])`,
    [c.ids],
  );
  const problems: string[] = [];
  const ours = await c.docker.listContainers({ all: true, filters: { label: [`${LABEL_DEPLOYMENT}=${c.deploymentId}`] } });
  for (const w of rows) {
    if (w.status !== 'ONLINE') problems.push(`${w.id} is ${w.status}`);
    const mine = ours.filter((k) => k.Labels[LABEL_WORKSPACE_ID] === w.id);
    if (mine.length !== 1) {
      problems.push(`${w.id} has ${mine.length} containers`);
      continue;
    }
    const k = mine[0]!;
    if (k.State !== 'running') problems.push(`${w.id}'s container is ${k.State}`);
    if (k.Labels[LABEL_GENERATION] !== String(w.generation)) problems.push(`${w.id}'s container is of generation ${k.Labels[LABEL_GENERATION]}, not ${w.generation}`);
    const live = await c.sql.rows<{ token_hash: string }>(`SELECT token_hash FROM workspace_auth_tokens WHERE workspace_id = $1 AND revoked_at IS NULL`, [w.id]);
    if (live.length !== 1) problems.push(`${w.id} has ${live.length} live tokens`);
    else {
      const file = await tokenFileOf(c.docker, k.Id);
      if (createHash('sha256').update(file).digest('hex') !== live[0]!.token_hash) problems.push(`${w.id}'s token file does not hold its live token`);
    }
  }
  if (rows.length !== c.ids.length) problems.push(`${c.ids.length - rows.length} workspaces have no row`);
  const known = new Set(c.ids);
  const leaked = ours.filter((k) => !known.has(k.Labels[LABEL_WORKSPACE_ID] ?? ''));
  if (leaked.length > 0) problems.push(`leaked containers: ${leaked.map((k) => k.Names[0]).join(', ')}`);
  const { Volumes } = await c.docker.listVolumes({ filters: { label: [`${LABEL_DEPLOYMENT}=${c.deploymentId}`] } });
  const volumes = (Volumes ?? []).map((v) => v.Name).sort();
  const expected = c.ids.map(configVolumeFor).sort();
  if (JSON.stringify(volumes) !== JSON.stringify(expected)) problems.push(`volumes ${volumes.join(',')} instead of ${expected.join(',')}`);
  if (problems.length > 0) throw new Error(`not converged: ${problems.join('; ')}`);
}

/** Waits for every workspace ONLINE, then for the full convergence check; returns ms since `since`. */
export async function converged(c: ConvergenceCheck, since: number, timeoutMs: number): Promise<number> {
  await allOnline(c.sql, c.ids, since, timeoutMs);
  await eventually(async () => (await assertConverged(c), true), Math.max(5_000, timeoutMs - (Date.now() - since)), 'full convergence');
  return Date.now() - since;
}

export interface HistoryEntry {
  type: string;
  status: string | null;
  payload: Record<string, unknown>;
}

/** Every event of a workspace after `cursor`, in order. */
export async function historyOf(sql: Sql, id: string, cursor: string): Promise<HistoryEntry[]> {
  return sql.rows<HistoryEntry>(
    `SELECT type, status::text AS status, payload FROM workspace_events WHERE workspace_id = $1 AND id > $2::bigint ORDER BY id`,
    [id, cursor],
  );
}

/** The status events only, as their new statuses: ['PROVISIONING', 'ONLINE']. */
export async function statusHistory(sql: Sql, id: string, cursor: string): Promise<string[]> {
  return (await historyOf(sql, id, cursor)).filter((e) => e.status !== null).map((e) => e.status!);
}

/** Removes every container and volume labeled with this deployment (after a test). */
export async function removeDeployment(docker: Docker, deploymentId: string): Promise<void> {
  const label = [`${LABEL_DEPLOYMENT}=${deploymentId}`];
  for (const k of await docker.listContainers({ all: true, filters: { label } })) await docker.getContainer(k.Id).remove({ force: true }).catch(() => {});
  const { Volumes } = await docker.listVolumes({ filters: { label } });
  for (const v of Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
}

/** Waits until the server reports every workspace ONLINE over GraphQL; returns ms since `since`. */
export async function onlineVia(
  gql: (q: string, v?: Record<string, unknown>) => Promise<{ data: any }>,
  ids: readonly string[],
  since: number,
  timeoutMs: number,
): Promise<number> {
  await eventually(
    async () => {
      const r = await gql(`{ workspaces(first: 100) { edges { node { id status } } } }`);
      const status = new Map<string, string>((r.data?.workspaces?.edges ?? []).map((e: { node: { id: string; status: string } }) => [e.node.id, e.node.status]));
      return ids.every((id) => status.get(id) === 'ONLINE') ? true : undefined;
    },
    timeoutMs,
    `${ids.length} workspaces ONLINE`,
  );
  return Date.now() - since;
}

/** The embedded database of a stopped server, opened in this process (PGlite under DATA_DIR). */
export async function embeddedSql(dataDir: string): Promise<Sql> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(`${dataDir}/pgdata`);
  return {
    rows: async <T>(text: string, params: unknown[] = []) => (await db.query<T>(text, params)).rows,
    close: () => db.close(),
  };
}
