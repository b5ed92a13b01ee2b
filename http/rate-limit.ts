// Per-client-IP limit over GraphQL and REST (API.md: RATE_LIMIT_PER_MIN, fixed one-minute windows).
// The key is the TCP peer address: X-Forwarded-For is client-controlled and is not trusted.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FixedWindowLimiter } from '../services/rate-limit.js';
import { sendError, sendJson } from './respond.js';

export interface RequestLimiter {
  /**
   * Counts the request; true when it may proceed, otherwise the 429 has been sent: a GraphQL body with
   * extensions.code RATE_LIMITED and retryAfter on /graphql (what GraphQL clients read), the REST
   * routes' {"error":…} elsewhere.
   */
  admit(req: IncomingMessage, res: ServerResponse, graphql?: boolean): boolean;
}

export const RATE_LIMIT_MESSAGE = 'rate limit exceeded';

export function clientIp(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export function createRequestLimiter(limitPerMin: number, now?: () => number): RequestLimiter {
  const limiter = new FixedWindowLimiter(limitPerMin, 60_000, now);
  return {
    admit(req, res, graphql = false) {
      const d = limiter.hit(clientIp(req));
      if (d.allowed) return true;
      const headers = { 'retry-after': String(d.retryAfterS), 'x-ratelimit-limit': String(limitPerMin), 'x-ratelimit-remaining': '0' };
      if (graphql) {
        sendJson(res, 429, { errors: [{ message: RATE_LIMIT_MESSAGE, extensions: { code: 'RATE_LIMITED', retryAfter: d.retryAfterS } }] }, headers);
      } else {
        sendError(res, 429, RATE_LIMIT_MESSAGE, headers);
      }
      return false;
    },
  };
}
