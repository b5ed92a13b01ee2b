// What both modes of the restart benchmark (bench/restart.ts: Docker; bench/restart-swarm.ts: Swarm)
// read: the server's own log stamps of provisioning steps, and the times of its committed events.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { randomBytes } from 'node:crypto';
import type { RunningServer } from '../server.js';
import { BENCH_ADMIN_TOKEN } from './admin-gql.js';

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
export const ms = (x: number) => `${x.toFixed(1)} ms`;

/** Collects the server's log lines that stamp provisioning steps, by workspace and generation. */
export function stampCollector() {
  const stamps = new Map<string, number>();
  const waiters = new Map<string, (t: number) => void>();
  const key = (msg: string, id: string, gen: number) => `${msg}|${id}|${gen}`;
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line.startsWith('{')) continue;
        const o = JSON.parse(line) as { msg?: string; workspaceId?: string; generation?: number; committedAtMs?: number; startedAtMs?: number; level?: number };
        const t = o.committedAtMs ?? o.startedAtMs;
        if (o.msg && o.workspaceId && o.generation !== undefined && t !== undefined) {
          const k = key(o.msg, o.workspaceId, o.generation);
          stamps.set(k, t);
          waiters.get(k)?.(t);
        } else if ((o.level ?? 0) >= 50) process.stderr.write(`${line}\n`);
      }
      done();
    },
  });
  return {
    log: pino({ level: 'info', base: undefined }, stream),
    wait(msg: string, id: string, gen: number, timeoutMs = 60_000): Promise<number> {
      const k = key(msg, id, gen);
      const have = stamps.get(k);
      if (have !== undefined) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${msg}" for generation ${gen}`)), timeoutMs);
        waiters.set(k, (t) => {
          clearTimeout(timer);
          resolve(t);
        });
      });
    },
  };
}

/** The times of a workspace's committed events, read straight from the server's database. */
export function eventTimes(server: RunningServer) {
  const eventAt = async (id: string, type: string, afterId: string): Promise<{ id: string; at: number } | null> => {
    const rows = await server.db.prisma.$queryRaw<{ id: string; at: number }[]>`
      /* benchEventAt */
      SELECT id::text, extract(epoch FROM created_at) * 1000 AS at FROM workspace_events
       WHERE workspace_id = ${id}::uuid AND type = ${type} AND id > ${afterId}::bigint ORDER BY id LIMIT 1`;
    return rows[0] ? { id: rows[0].id, at: Number(rows[0].at) } : null;
  };
  const waitFor = async (id: string, type: string, afterId: string, timeoutMs = 60_000) => {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
      const e = await eventAt(id, type, afterId);
      if (e) return e;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no ${type} for workspace ${id} within ${timeoutMs} ms`);
  };
  return {
    eventAt,
    onlineEventAt: (id: string, afterId: string) => eventAt(id, 'WORKSPACE_ONLINE', afterId),
    waitOnline: (id: string, afterId: string, timeoutMs = 60_000) => waitFor(id, 'WORKSPACE_ONLINE', afterId, timeoutMs),
    waitFor,
    async lastEvent(): Promise<string> {
      return (await server.db.prisma.$queryRaw<{ id: string }[]>`/* benchLastEvent */ SELECT coalesce(max(id), 0)::text AS id FROM workspace_events`)[0]!.id;
    },
    /** The generation a restart asked for (its WORKSPACE_RESTART_REQUESTED event); throws if it was refused. */
    async requestedGeneration(id: string, afterId: string): Promise<number> {
      const rows = await server.db.prisma.$queryRaw<{ g: number }[]>`
        /* benchRestartGeneration */
        SELECT (payload->>'generation')::int AS g FROM workspace_events
         WHERE workspace_id = ${id}::uuid AND type = 'WORKSPACE_RESTART_REQUESTED' AND id > ${afterId}::bigint ORDER BY id LIMIT 1`;
      if (!rows[0]) throw new Error('the restart was refused');
      return rows[0].g;
    },
  };
}

/** What every restart benchmark server runs with: a scratch database, host networking, 5 s heartbeats. */
export function restartServerEnv(databaseUrl: string, dataDir: string, containerRuntime: 'docker' | 'swarm'): Record<string, string> {
  return {
    PORT: '0',
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    CONTAINER_RUNTIME: containerRuntime,
    DOCKER_NETWORK: 'host',
    HEARTBEAT_INTERVAL_S: '5',
  };
}
