// Per-client-IP limit over GraphQL and REST (API.md: RATE_LIMIT_PER_MIN, fixed one-minute windows).
// The key is the TCP peer address: X-Forwarded-For is client-controlled and is not trusted.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FixedWindowLimiter } from '../services/rate-limit.js';
import { sendError } from './respond.js';

export interface RequestLimiter {
  /** Counts the request; true when it may proceed, otherwise the 429 has been sent. */
  admit(req: IncomingMessage, res: ServerResponse): boolean;
}

export function clientIp(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export function createRequestLimiter(limitPerMin: number, now?: () => number): RequestLimiter {
  const limiter = new FixedWindowLimiter(limitPerMin, 60_000, now);
  return {
    admit(req, res) {
      const d = limiter.hit(clientIp(req));
      if (d.allowed) return true;
      sendError(res, 429, 'rate limit exceeded', {
        'retry-after': String(d.retryAfterS),
        'x-ratelimit-limit': String(limitPerMin),
        'x-ratelimit-remaining': '0',
      });
      return false;
    },
  };
}
