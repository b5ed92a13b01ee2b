// Loop leadership (DESIGN.md "Reconcilers"): one session-level advisory lock per loop, held on a
// dedicated connection that is not from the pool, so the lock lives exactly as long as that session.
// When the leader's process dies its connection drops and PostgreSQL releases the lock; a follower
// asking again at its next interval gets it. Before every tick the leader checks pg_locks for its own
// session, so a leader whose connection was replaced never acts on a lock it no longer holds.
// Embedded mode has one process and one database session: it leads everything.
import pg from 'pg';
import type { Logger } from '../log.js';
import { lockKeyOf } from './loop.js';

/** Advisory lock space of the reconcilers: (class, lockKeyOf(loop)), apart from the events lock. */
export const RECONCILER_LOCK_CLASS = 740_511;

/** What the leadership session is called in pg_stat_activity (at most 63 bytes, PostgreSQL's limit). */
export function leadershipApplicationName(instanceId: string): string {
  return `reconcilers ${instanceId}`.slice(0, 63);
}

export interface Leadership {
  /** True when this instance leads the loop now (tries to become leader when it does not). */
  acquire(loop: string): Promise<boolean>;
  /** The last known answer, without asking the database. */
  leads(loop: string): boolean;
  /** Called with the loops this instance stopped leading because its session ended. */
  onLost(fn: (loops: string[]) => void): void;
  close(): Promise<void>;
}

export interface LeadershipOptions {
  url: string;
  embedded: boolean;
  instanceId: string;
  log: Logger;
  /** Bounds every query on the leadership connection (default 10 s). */
  queryTimeoutMs?: number;
}

export function createLeadership(opts: LeadershipOptions): Leadership {
  const held = new Set<string>();
  const lostListeners: Array<(loops: string[]) => void> = [];

  if (opts.embedded) {
    return {
      acquire: async (loop) => (held.add(loop), true),
      leads: (loop) => held.has(loop),
      onLost: () => {},
      close: async () => held.clear(),
    };
  }

  let client: pg.Client | null = null;
  let connecting: Promise<pg.Client> | null = null;
  let closed = false;

  function dropSession(c: pg.Client, why: unknown): void {
    if (client !== c) return;
    client = null;
    c.end().catch(() => {});
    const lost = [...held];
    held.clear();
    if (lost.length > 0) {
      opts.log.warn({ err: why, loops: lost }, 'reconciler leadership session ended; leadership released');
      for (const fn of lostListeners) fn(lost);
    }
  }

  async function session(): Promise<pg.Client> {
    if (client) return client;
    connecting ??= (async () => {
      const c = new pg.Client({
        connectionString: opts.url,
        keepAlive: true,
        query_timeout: opts.queryTimeoutMs ?? 10_000,
        application_name: leadershipApplicationName(opts.instanceId),
      });
      c.on('error', (err) => dropSession(c, err));
      c.on('end', () => dropSession(c, new Error('connection ended')));
      await c.connect();
      if (closed) {
        await c.end().catch(() => {});
        throw new Error('leadership closed');
      }
      client = c;
      return c;
    })().finally(() => {
      connecting = null;
    });
    return connecting;
  }

  // Every loop asks on this one session; one question at a time (pg deprecates overlapping queries).
  let queue: Promise<unknown> = Promise.resolve();
  function query<T extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<T[]> {
    const run = async () => {
      const c = await session();
      try {
        return (await c.query<T>(text, values)).rows;
      } catch (err) {
        // The session's state is unknown after a failed query on it (timeout, broken socket): start over.
        dropSession(c, err);
        throw err;
      }
    };
    const p = queue.then(run, run);
    queue = p.catch(() => {});
    return p;
  }

  return {
    async acquire(loop) {
      if (closed) return false;
      const key = lockKeyOf(loop);
      if (held.has(loop)) {
        const [row] = await query<{ held: boolean }>(
          `/* holdsReconcilerLock */ SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
             AND granted AND classid = $1::int::oid AND objid = $2::int::oid AND objsubid = 2) AS held`,
          [RECONCILER_LOCK_CLASS, key],
        );
        if (row?.held) return true;
        held.delete(loop);
      }
      const [row] = await query<{ locked: boolean }>(`/* tryReconcilerLock */ SELECT pg_try_advisory_lock($1::int, $2::int) AS locked`, [
        RECONCILER_LOCK_CLASS,
        key,
      ]);
      if (row?.locked) held.add(loop);
      return row?.locked === true;
    },
    leads: (loop) => held.has(loop),
    onLost(fn) {
      lostListeners.push(fn);
    },
    async close() {
      closed = true;
      held.clear();
      const c = client ?? (await connecting?.catch(() => null)) ?? null;
      client = null;
      // Ending the session releases every lock it holds.
      await c?.end().catch(() => {});
    },
  };
}
