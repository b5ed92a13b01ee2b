// The baselines of bench/api.ts: bare node:http servers doing the same work by hand, as a careful
// engineer would without any framework: one pg query that builds the whole JSON answer for the list,
// and a token-hash lookup plus one UPDATE for the heartbeat.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';

export interface Baseline {
  url: string;
  close(): Promise<void>;
}

function readAll(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function listen(handler: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>): Promise<Baseline> {
  const server = http.createServer((req, res) => {
    handler(req, res).catch(() => {
      res.writeHead(500).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** The same JSON as the GraphQL list query in bench/api.ts, built by PostgreSQL in one statement. */
export const LIST_SQL = `
/* baselineWorkspaceList */
WITH page AS (
  SELECT * FROM workspaces WHERE status <> 'REMOVED' ORDER BY created_at, id LIMIT 51
), shown AS (
  SELECT * FROM page ORDER BY created_at, id LIMIT 50
)
SELECT json_build_object('data', json_build_object('workspaces', json_build_object(
  'totalCount', (SELECT count(*) FROM workspaces WHERE status <> 'REMOVED'),
  'pageInfo', json_build_object(
    'hasNextPage', (SELECT count(*) FROM page) > 50,
    'endCursor', (SELECT id FROM shown ORDER BY created_at DESC, id DESC LIMIT 1)),
  'edges', coalesce((SELECT json_agg(json_build_object('cursor', w.id, 'node', json_build_object(
      'id', w.id, 'name', w.name, 'role', w.role, 'tier', w.tier, 'runtime', w.runtime, 'status', w.status,
      'url', w.url, 'activeTasks', w.active_tasks, 'lastErrorRate', w.last_error_rate,
      'createdAt', to_char(w.created_at AT TIME ZONE 'UTC', ${ISO}),
      'parent', (SELECT json_build_object('id', p.id, 'name', p.name, 'status', p.status) FROM workspaces p WHERE p.id = w.parent_id),
      'children', coalesce((SELECT json_agg(json_build_object('id', c.id, 'name', c.name, 'status', c.status) ORDER BY c.created_at, c.id)
                              FROM workspaces c WHERE c.parent_id = w.id AND c.status <> 'REMOVED'), '[]'::json),
      'tokens', coalesce((SELECT json_agg(json_build_object('id', t.id, 'prefix', t.prefix,
                                            'createdAt', to_char(t.created_at AT TIME ZONE 'UTC', ${ISO})) ORDER BY t.created_at DESC, t.id DESC)
                            FROM workspace_auth_tokens t WHERE t.workspace_id = w.id AND t.revoked_at IS NULL), '[]'::json),
      'secretKeys', coalesce((SELECT json_agg(s.key ORDER BY s.key) FROM workspace_secrets s WHERE s.workspace_id = w.id), '[]'::json)
  )) ORDER BY w.created_at, w.id) FROM shown w), '[]'::json)
)))::text AS body`;

export function startListBaseline(pool: pg.Pool, adminToken: string): Promise<Baseline> {
  return listen(async (req, res) => {
    await readAll(req);
    if (req.headers.authorization !== `Bearer ${adminToken}`) {
      res.writeHead(401).end();
      return;
    }
    const r = await pool.query<{ body: string }>(LIST_SQL);
    const body = r.rows[0]!.body;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}

export function startHeartbeatBaseline(pool: pg.Pool): Promise<Baseline> {
  return listen(async (req, res) => {
    const hb = JSON.parse(await readAll(req)) as Record<string, unknown>;
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const hash = createHash('sha256').update(token).digest('hex');
    const t = await pool.query<{ workspace_id: string }>(
      '/* baselineTokenLookup */ SELECT workspace_id FROM workspace_auth_tokens WHERE token_hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    if (t.rows[0]?.workspace_id !== hb.workspace_id) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid workspace token"}');
      return;
    }
    await pool.query(
      `/* baselineHeartbeat */ UPDATE workspaces SET last_error_rate = $2, last_sample_error = $3, active_tasks = $4,
              uptime_seconds = $5, current_task = $6, runtime_state = $7, last_heartbeat_at = now(), updated_at = now()
        WHERE id = $1 AND status <> 'REMOVED'`,
      [hb.workspace_id, hb.error_rate, hb.sample_error || null, hb.active_tasks, hb.uptime_seconds, hb.current_task || null, hb.runtime_state],
    );
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 15 }).end('{"status":"ok"}');
  });
}
