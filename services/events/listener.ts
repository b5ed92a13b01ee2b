// LISTEN for other instances' commits (a PostgreSQL server only: PGlite's socket carries no
// notifications, DESIGN.md). The connection is our own pg.Client, never a pool connection: a pooled
// client would be handed to queries and recycled. NOTIFY payloads are ids only; the rows come from the
// log. When the connection drops, it reconnects with backoff and then wakes the fan-out without an id,
// so it reads the log from the last id it saw: whatever was committed while deaf is delivered.
import pg from 'pg';
import type { Logger } from '../log.js';
import { EVENTS_CHANNEL } from './log.js';

export interface EventListenerOptions {
  url: string;
  /** Identifies the connection in pg_stat_activity (tests terminate it by this name). */
  applicationName: string;
  log: Logger;
  /** maxId from a NOTIFY; no argument after a (re)connect: read whatever is new. */
  wake: (maxId?: bigint) => void;
  /** Further channels on the same connection, each with its payload handler (no catch-up on reconnect). */
  channels?: Record<string, (payload: string) => void>;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** What the listener's connection is called in pg_stat_activity (at most 63 bytes, PostgreSQL's limit). */
export function listenerApplicationName(instanceId: string): string {
  return `ws-events:${instanceId}`.slice(0, 63);
}

export interface EventListener {
  /** Resolves once the first LISTEN is in place (later reconnects happen in the background). */
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly connected: boolean;
  /** Successful (re)connections so far. */
  readonly connections: number;
}

export function createEventListener(opts: EventListenerOptions): EventListener {
  const minBackoff = opts.minBackoffMs ?? 100;
  const maxBackoff = opts.maxBackoffMs ?? 5_000;
  let client: pg.Client | null = null;
  let stopped = false;
  let connected = false;
  let connections = 0;
  let backoff = minBackoff;
  let retry: NodeJS.Timeout | undefined;

  async function connect(): Promise<void> {
    const c = new pg.Client({
      connectionString: opts.url,
      application_name: opts.applicationName,
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
    });
    c.on('error', (err) => {
      // Also fires when the backend is terminated; 'end' follows and schedules the reconnect.
      opts.log.warn({ err: err.message }, 'event listener connection failed');
    });
    c.on('end', () => {
      if (client !== c) return;
      client = null;
      connected = false;
      scheduleReconnect();
    });
    c.on('notification', (msg) => {
      const other = opts.channels?.[msg.channel];
      if (other) return other(msg.payload ?? '');
      if (msg.channel !== EVENTS_CHANNEL) return;
      const maxId = /^[0-9]{1,19}$/.test(msg.payload ?? '') ? BigInt(msg.payload!) : undefined;
      opts.wake(maxId);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${EVENTS_CHANNEL}`);
      // Channel names are fixed identifiers of this code base, never client input.
      for (const channel of Object.keys(opts.channels ?? {})) await c.query(`LISTEN ${channel}`);
    } catch (err) {
      await c.end().catch(() => {});
      throw err;
    }
    if (stopped) {
      await c.end().catch(() => {});
      return;
    }
    client = c;
    connected = true;
    connections += 1;
    backoff = minBackoff;
    if (connections > 1) opts.log.info({ connections }, 'event listener reconnected; catching up from the log');
    // Anything committed while no LISTEN was in place is read now.
    opts.wake();
  }

  function scheduleReconnect(): void {
    if (stopped) return;
    clearTimeout(retry);
    const delay = backoff;
    backoff = Math.min(maxBackoff, backoff * 2);
    retry = setTimeout(() => {
      connect().catch((err) => {
        opts.log.warn({ err: (err as Error).message, retryInMs: backoff }, 'event listener reconnect failed');
        scheduleReconnect();
      });
    }, delay);
    retry.unref();
  }

  return {
    get connected() {
      return connected;
    },
    get connections() {
      return connections;
    },
    start: () => connect(),
    async stop() {
      stopped = true;
      clearTimeout(retry);
      const c = client;
      client = null;
      connected = false;
      await c?.end().catch(() => {});
    },
  };
}
