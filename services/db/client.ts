// One pg.Pool per process, shared by Prisma (through @prisma/adapter-pg) and the few places that need
// the raw driver. The pool has an error handler (an idle client dying must not crash the process) and a
// connection timeout (a dead database must fail requests, not hang them).
import { createHash } from 'node:crypto';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, Prisma } from '../../generated/prisma/client.js';

export { Prisma };
export type TxClient = Prisma.TransactionClient;

export interface Tx {
  /** Prisma inside the transaction: use `$queryRaw`/`$executeRaw` tagged templates for exact predicates. */
  sql: TxClient;
  /** Runs after COMMIT succeeds (never on rollback). */
  afterCommit(fn: () => void): void;
  /** True against a PostgreSQL server (LISTEN/NOTIFY works); false on embedded PGlite. */
  notify: boolean;
  /** Wakes this process's subscribers once events up to maxId are committed (see setEventWake). */
  eventsCommitted(maxId: bigint): void;
}

/** Called after commit with the highest event id a transaction wrote. */
export type EventWake = (maxId: bigint) => void;

export interface Database {
  prisma: PrismaClient;
  pool: pg.Pool;
  /**
   * A read outside any transaction, straight on the pool: the hot reads of GraphQL lists and their
   * DataLoaders. Prisma's `$queryRaw` path (adapter, engine result mapping) costs as much CPU as the
   * rest of such a request. Used as a tagged template (or given a `Prisma.sql` one), like `$queryRaw`,
   * so every value stays a bind parameter. Rows are pg's: use it only for columns where pg and Prisma agree (text, uuid, int4,
   * float8, bool, timestamptz as Date, json/jsonb parsed, enums as text); NOT for int8/bigserial
   * (pg gives a string, Prisma a bigint), numeric (string vs Decimal) or bytea (Buffer vs Uint8Array).
   */
  query<T>(sql: Prisma.Sql, opts?: QueryOptions): Promise<T[]>;
  query<T>(strings: TemplateStringsArray, ...values: unknown[]): Promise<T[]>;
  url: string;
  embedded: boolean;
  tx<T>(fn: (tx: Tx) => Promise<T>, opts?: { timeoutMs?: number }): Promise<T>;
  /** The in-process fan-out registers here; events committed by this process wake it at once. */
  setEventWake(fn: EventWake): void;
  close(): Promise<void>;
}

export interface QueryOptions {
  /**
   * false: send the statement unnamed, so PostgreSQL plans it for its actual values every time. For
   * statements whose best plan depends on a value's selectivity (a search pattern), where a named
   * statement's generic plan would be chosen blind after five executions.
   */
  named?: boolean;
}

export interface DatabaseOptions {
  url: string;
  embedded: boolean;
  /** DATABASE_POOL_MAX; default DEFAULT_POOL_MAX. */
  poolSize?: number;
  /** DATABASE_TIMEOUT_MS: longest wait for a pooled connection, and for one statement. */
  timeoutMs?: number;
  /** Shown in pg_stat_activity (operators tell instances apart by it). */
  applicationName?: string;
  onPoolError?: (err: Error) => void;
}

export const DEFAULT_DATABASE_TIMEOUT_MS = 5_000;

/**
 * db.query sends named statements: each pooled connection parses and plans a text once and then only
 * binds and executes it, which takes about a fifth off PostgreSQL's CPU for the large list statement
 * (measured with pgbench -M prepared against -M simple). The texts come from fixed templates, so their
 * number is small; past the cap, texts go unnamed rather than grow every connection's statement cache.
 */
const MAX_NAMED_STATEMENTS = 500;
const statementNames = new Map<string, string>();
/** Part of every name: bumped when prepared statements went stale, so each text is prepared afresh. */
let statementEpoch = 0;

function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) {
    name = `q${statementEpoch}_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * A migration applied by another instance while this one runs can change what a prepared `SELECT *`
 * returns; PostgreSQL then refuses the prepared statement ("cached plan must not change result type",
 * SQLSTATE 0A000). New names make every connection prepare its texts again.
 */
function isStalePreparedStatement(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === '0A000' && /cached plan/.test(String((err as Error).message));
}

/** API.md's default for DATABASE_POOL_MAX, on a server and embedded alike. */
export const DEFAULT_POOL_MAX = 20;

export function createDatabase(opts: DatabaseOptions): Database {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_DATABASE_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? DEFAULT_POOL_MAX,
    // Waiting for a free pooled connection and opening a new one both count here: a database that
    // accepts TCP but never answers fails requests after this long instead of hanging them.
    connectionTimeoutMillis: timeoutMs,
    // Client-side, so it also bounds a statement to a database that stopped answering altogether
    // (a server-side statement_timeout would never be heard from). Migrations (dbmate) and the
    // leadership and listener sessions use their own connections and are not bounded by it.
    query_timeout: timeoutMs,
    idleTimeoutMillis: 30_000,
    ...(opts.applicationName ? { application_name: opts.applicationName.slice(0, 63) } : {}),
  });
  pool.on('error', (err) => opts.onPoolError?.(err));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  let wake: EventWake = () => {};
  const eventsCommitted = (maxId: bigint) => wake(maxId);

  return {
    prisma,
    pool,
    url: opts.url,
    embedded: opts.embedded,
    async query<T>(strings: Prisma.Sql | TemplateStringsArray, ...values: unknown[]): Promise<T[]> {
      const given = strings instanceof Prisma.Sql;
      const sql = given ? strings : new Prisma.Sql(strings, values as Prisma.Sql['values']);
      const named = !given || (values[0] as QueryOptions | undefined)?.named !== false;
      // Not on embedded PGlite: its socket serves every pooled connection from ONE backend session,
      // where a second connection preparing the same name would collide.
      const name = opts.embedded || !named ? undefined : statementName(sql.text);
      const params = sql.values as unknown[];
      try {
        return (await pool.query({ name, text: sql.text, values: params })).rows as T[];
      } catch (err) {
        if (name === undefined || !isStalePreparedStatement(err)) throw err;
        statementEpoch++;
        statementNames.clear();
        return (await pool.query({ name: statementName(sql.text), text: sql.text, values: params })).rows as T[];
      }
    },
    async tx(fn, txOpts) {
      const hooks: Array<() => void> = [];
      const result = await prisma.$transaction(
        (sql) => fn({ sql, afterCommit: (h) => hooks.push(h), notify: !opts.embedded, eventsCommitted }),
        { timeout: txOpts?.timeoutMs ?? 15_000, maxWait: timeoutMs },
      );
      for (const h of hooks) {
        try {
          h();
        } catch {
          // a wake-up hook failing must not turn a committed change into an error
        }
      }
      return result;
    },
    setEventWake(fn) {
      wake = fn;
    },
    async close() {
      await prisma.$disconnect().catch(() => {});
      await pool.end().catch(() => {});
    },
  };
}
