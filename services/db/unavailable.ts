// Database unavailability, told apart from every other failure (DESIGN.md "Faults are classified, not
// masked"). The same outage reaches us in many shapes: a pg error code from the server (shutting down,
// starting up, too many connections), a Node socket error, pg's own timeouts, or any of these wrapped by
// Prisma (P1001, P2010 with the driver adapter's error in `meta`, P2028 when no connection could be had
// for a transaction). Callers ask isDatabaseUnavailable(err) and answer 503 / SERVICE_UNAVAILABLE, or
// retry the work later, instead of reporting it as a decryption, validation or unexpected error.

/** Thrown where code must say "the database could not be reached" itself (the cause is kept). */
export class DatabaseUnavailableError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('database unavailable', options);
    this.name = 'DatabaseUnavailableError';
  }
}

const UNAVAILABLE_CODES = new Set([
  // PostgreSQL: shutdown and start-up, connection limits, lost connections, our statement timeout.
  '57P01', // admin_shutdown (also pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, in recovery)
  '57014', // query_canceled: statement_timeout
  '53300', // too_many_connections (also a role's CONNECTION LIMIT)
  '53400', // configuration_limit_exceeded
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  // Node sockets.
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  // Prisma: cannot reach, timed out, server closed the connection, pool timeout, transaction API
  // (no connection for a transaction within maxWait, or it expired while the database hung).
  'P1001',
  'P1002',
  'P1008',
  'P1017',
  'P2024',
  'P2028',
]);

/** The driver adapter's own classification, carried in a Prisma error's meta. */
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

/** pg's and pg-pool's own messages, which carry no code. */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Can't reach database server|Client has encountered a connection error|Connection terminated due to connection timeout|Cannot use a pool after calling end|the database system is (starting up|shutting down|in recovery mode)|sorry, too many clients/i;

function ownVerdict(e: Record<string, unknown>): boolean {
  if (e instanceof DatabaseUnavailableError) return true;
  const code = e.code ?? e.originalCode;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  if (typeof e.kind === 'string' && UNAVAILABLE_KINDS.has(e.kind)) return true;
  const message = e.message ?? e.originalMessage;
  return typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message);
}

/** Follows `cause` and Prisma's `meta.driverAdapterError` (and its cause) a few levels deep. */
function* chain(err: unknown): Generator<Record<string, unknown>> {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0 && seen.size < 12) {
    const e = queue.shift();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const r = e as Record<string, unknown>;
    // The container runtime's failures carry the same socket codes; they are its own class.
    if (r.name === 'RuntimeUnavailable' || r.name === 'RuntimeUnavailableError') continue;
    yield r;
    queue.push(r.cause, r.originalError, (r.meta as Record<string, unknown> | undefined)?.driverAdapterError);
  }
}

export function isDatabaseUnavailable(err: unknown): boolean {
  for (const e of chain(err)) if (ownVerdict(e)) return true;
  return false;
}
