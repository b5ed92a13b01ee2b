// CORS for every answer of the HTTP server, those given before GraphQL runs included (401, 403, 404,
// 405, 413, 429): a browser can only read an answer, a 429's Retry-After among them, when it carries
// Access-Control-Allow-Origin (API.md "Frontends"). Only origins listed in CORS_ORIGINS get it; any
// other origin gets no CORS header at all, and an empty CORS_ORIGINS keeps browsers to the same origin.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.js';

/** Request headers a browser may send cross-origin, before CORS_ALLOW_HEADERS (API.md). */
export const CORS_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'accept',
  'x-graphql-yoga-csrf',
  'x-request-id',
  'traceparent',
  'tracestate',
  'baggage',
] as const;
/** Answer headers a browser script may read. */
export const CORS_EXPOSED_HEADERS = ['x-request-id', 'retry-after'] as const;
export const CORS_METHODS = ['GET', 'POST', 'OPTIONS'] as const;

export interface CorsPolicy {
  /** Sets the CORS headers this request's answer carries; call before anything is written. */
  decorate(req: IncomingMessage, res: ServerResponse): void;
  /** Answers a preflight (OPTIONS): never rate limited, never authenticated. */
  preflight(req: IncomingMessage, res: ServerResponse): void;
}

export function createCorsPolicy(config: Pick<Config, 'corsOrigins' | 'corsMaxAgeS' | 'corsAllowHeaders'>): CorsPolicy {
  const origins = new Set(config.corsOrigins);
  const allowHeaders = [...new Set([...CORS_ALLOWED_HEADERS, ...config.corsAllowHeaders])].join(', ');
  const exposeHeaders = CORS_EXPOSED_HEADERS.join(', ');
  const allowed = (req: IncomingMessage): string | null => {
    const origin = req.headers.origin;
    return typeof origin === 'string' && origins.has(origin) ? origin : null;
  };
  return {
    decorate(req, res) {
      if (origins.size === 0) return;
      // The answer depends on Origin whatever it is: caches must keep one copy per origin.
      res.setHeader('vary', 'Origin');
      const origin = allowed(req);
      if (!origin) return;
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-expose-headers', exposeHeaders);
    },
    preflight(req, res) {
      if (allowed(req)) {
        res.setHeader('access-control-allow-methods', CORS_METHODS.join(', '));
        res.setHeader('access-control-allow-headers', allowHeaders);
        res.setHeader('access-control-max-age', String(config.corsMaxAgeS));
      }
      res.writeHead(204, { 'content-length': '0' });
      res.end();
    },
  };
}
