// How we reach the Docker daemon, and how its failures are told apart. Kept apart from docker.ts so
// the rules ("which error means the daemon is gone") can be read and tested on their own.
import path from 'node:path';
import Docker from 'dockerode';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** Idle timeout for ordinary API calls: a daemon that accepts but never answers counts as gone. */
export const API_TIMEOUT_MS = 30_000;

/**
 * DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, read once by config.ts (readDockerTls): the PEM text of the CA
 * that signed the daemon's certificate and of this client's certificate and key.
 */
export interface DockerTls {
  certPath: string;
  ca: string;
  cert: string;
  key: string;
}

export type DockerConnection =
  | { socketPath: string }
  | { host: string; port: number; protocol: 'http' }
  | { host: string; port: number; protocol: 'https'; ca: string; cert: string; key: string };

/** The file names the docker CLI looks for in DOCKER_CERT_PATH. */
export const TLS_FILES = { ca: 'ca.pem', cert: 'cert.pem', key: 'key.pem' } as const;

/**
 * Parses DOCKER_HOST (`unix:///path`, `tcp://host:port`, `http://host:port`); unset = local socket.
 * With `tls` (DOCKER_TLS_VERIFY), a tcp:// host is reached over HTTPS, the daemon's certificate checked
 * against the CA and this client's certificate presented; the port defaults to 2376 then, as for the
 * docker CLI. A unix socket ignores TLS, as the CLI does.
 */
export function parseDockerHost(dockerHost: string | undefined, tls?: DockerTls | null): DockerConnection {
  if (!dockerHost) return { socketPath: DEFAULT_DOCKER_SOCKET };
  if (dockerHost.startsWith('unix://')) {
    return { socketPath: dockerHost.slice('unix://'.length) || DEFAULT_DOCKER_SOCKET };
  }
  const url = new URL(dockerHost.includes('://') ? dockerHost : `tcp://${dockerHost}`);
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:') {
    throw new Error(`DOCKER_HOST ${dockerHost}: only unix:// and tcp:// (plain HTTP, or TLS with DOCKER_TLS_VERIFY) are supported`);
  }
  if (tls) return { host: url.hostname, port: Number(url.port || 2376), protocol: 'https', ca: tls.ca, cert: tls.cert, key: tls.key };
  return { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' };
}

/** True when DOCKER_HOST names a TCP daemon (the only kind TLS applies to). */
export function isTcpDockerHost(dockerHost: string | undefined): boolean {
  return !!dockerHost && !dockerHost.startsWith('unix://');
}

/**
 * Reads DOCKER_CERT_PATH's ca.pem, cert.pem and key.pem (DOCKER_TLS_VERIFY set). Every file is
 * required: a manager reachable over TCP must not take commands from a client without a certificate.
 * Throws one Error listing each file that is missing or unreadable.
 */
export function readDockerTls(certPath: string, read: (file: string) => string): DockerTls {
  const problems: string[] = [];
  const text = (name: string) => {
    const file = path.join(certPath, name);
    try {
      const pem = read(file);
      if (!pem.includes('-----BEGIN ')) problems.push(`${file} is not a PEM file`);
      return pem;
    } catch (err) {
      const code = (err as { code?: string }).code;
      problems.push(code === 'ENOENT' ? `${file} does not exist` : `${file} cannot be read (${code ?? errorMessage(err)})`);
      return '';
    }
  };
  const tls = { certPath, ca: text(TLS_FILES.ca), cert: text(TLS_FILES.cert), key: text(TLS_FILES.key) };
  if (problems.length > 0) throw new Error(problems.join('; '));
  return tls;
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
    protocol: 'http' as 'http' | 'https',
    ca: undefined as string | undefined,
    cert: undefined as string | undefined,
    key: undefined as string | undefined,
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

/**
 * A TLS failure toward the daemon, said plainly: the handshake was refused (wrong CA, a certificate
 * the daemon does not accept, a plain-HTTP port) rather than the daemon being gone. null otherwise.
 */
export function tlsProblem(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : '';
  // Go's TLS listener answers a plain-HTTP request itself (the daemon never sees it).
  if (statusOf(err) === 400 && /HTTP request to an HTTPS server/i.test(message)) {
    return `TLS: the daemon at DOCKER_HOST speaks only TLS; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (${message.trim()})`;
  }
  if (typeof code !== 'string') return null;
  if (TLS_VERIFY_CODES.has(code) || code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `TLS: the daemon's certificate is not trusted with DOCKER_CERT_PATH's ca.pem (${code}: ${message})`;
  }
  if (/ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN)$/.test(code)) {
    return `TLS: the daemon refused DOCKER_CERT_PATH's cert.pem (not issued by a CA it trusts, or not a client certificate) (${code})`;
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO') {
    // OpenSSL's message carries its source position; its reason alone is what a reader needs.
    const reason = /SSL routines:[^:]*:([^:\n]+)/.exec(message)?.[1] ?? message.trim();
    return `TLS: the handshake with the daemon failed; does DOCKER_HOST name its TLS port? (${code}: ${reason})`;
  }
  return null;
}

/** OpenSSL's certificate verification failures, as Node names them on the socket error. */
const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);

/**
 * True when the failure means "no daemon reachable", as opposed to an answer from the daemon. A TLS
 * handshake that fails counts: no daemon can be used through this connection.
 */
export function isConnectionError(err: unknown): boolean {
  if (tlsProblem(err) !== null) return true;
  if (statusOf(err) !== undefined) return false;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
  const message = err instanceof Error ? err.message : '';
  return /socket hang up|timed? ?out/i.test(message);
}

export function errorMessage(err: unknown): string {
  return tlsProblem(err) ?? (err instanceof Error ? err.message : String(err));
}
