// How we reach the Docker daemon, and how its failures are told apart. Kept apart from docker.ts so
// the rules ("which error means the daemon is gone") can be read and tested on their own.
import Docker from 'dockerode';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** Idle timeout for ordinary API calls: a daemon that accepts but never answers counts as gone. */
export const API_TIMEOUT_MS = 30_000;

export type DockerConnection =
  | { socketPath: string }
  | { host: string; port: number; protocol: 'http' };

/** Parses DOCKER_HOST (`unix:///path`, `tcp://host:port`, `http://host:port`); unset = local socket. */
export function parseDockerHost(dockerHost: string | undefined): DockerConnection {
  if (!dockerHost) return { socketPath: DEFAULT_DOCKER_SOCKET };
  if (dockerHost.startsWith('unix://')) {
    return { socketPath: dockerHost.slice('unix://'.length) || DEFAULT_DOCKER_SOCKET };
  }
  const url = new URL(dockerHost.includes('://') ? dockerHost : `tcp://${dockerHost}`);
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:') {
    throw new Error(`DOCKER_HOST ${dockerHost}: only unix:// and tcp:// (plain HTTP) are supported`);
  }
  return { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' };
}

/**
 * A dockerode client for one connection. Every option docker-modem would otherwise read from
 * process.env (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_CLIENT_TIMEOUT) is set
 * explicitly, because config.ts is the only reader of the environment.
 * `timeoutMs` undefined = no idle timeout (event streams are silent for as long as nothing happens).
 */
export function dockerClient(conn: DockerConnection, timeoutMs: number | undefined): Docker {
  const base = {
    socketPath: undefined as string | undefined,
    host: undefined as string | undefined,
    port: undefined as number | undefined,
    protocol: 'http' as const,
    ca: undefined,
    cert: undefined,
    key: undefined,
    timeout: timeoutMs,
  };
  return new Docker({ ...base, ...conn });
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED', // nothing listens
  'ENOENT', // socket file missing
  'EACCES', // socket not ours
  'EPERM',
  'ECONNRESET', // daemon went away mid-request; also how docker-modem reports its own timeout
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** The HTTP status the daemon answered with, or undefined when it did not answer at all. */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** True when the failure means "no daemon reachable", as opposed to an answer from the daemon. */
export function isConnectionError(err: unknown): boolean {
  if (statusOf(err) !== undefined) return false;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
  const message = err instanceof Error ? err.message : '';
  return /socket hang up|timed? ?out/i.test(message);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
