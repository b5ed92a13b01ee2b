// The one HTTP server: GraphQL (yoga) on /graphql, the agent REST routes and /health /ready /metrics
// beside it. WebSocket subscriptions attach to the same server's 'upgrade' event (http/websocket.ts);
// nothing here touches upgrades.
//
// Every request: a request id, its CORS headers (http/cors.ts; preflights are answered there, before the
// rate limit), the rate limit (not for probes), the route, one log line and the metrics. Nothing a client sends can produce a 500: bodies are capped and checked before any work,
// and an unexpected failure is logged with its cause and answered without internals.
import http from 'node:http';
import type { Services } from '../services/index.js';
import { boardRoute } from './board.js';
import { createCorsPolicy } from './cors.js';
import { createGraphQLHandler, type Yoga } from './graphql.js';
import { serveGraphQL } from './graphql-route.js';
import { createHttpMetrics } from './metrics.js';
import { sendHealth, sendMetrics, sendReady } from './probes.js';
import { createRequestLimiter } from './rate-limit.js';
import { logRequest, requestIdOf } from './request-log.js';
import { sendError } from './respond.js';
import { RETRY_AFTER_S } from './outage.js';
import { isDatabaseUnavailable } from '../services/db/unavailable.js';
import { createAgentRoutes, type RestRoute } from './rest/agent-routes.js';

export interface HttpApp {
  server: http.Server;
  yoga: Yoga;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, onOperation: (name: unknown) => void) => Promise<void> | void;

interface Route {
  label: string;
  /** Probes are not rate limited (a monitor polling /health must never lock itself out) and log at debug. */
  probe: boolean;
  graphql: boolean;
  methods: readonly string[];
  handle: Handler;
}

export function createHttpApp(services: Services): HttpApp {
  const { deps } = services;
  const log = deps.log;
  const yoga = createGraphQLHandler(services);
  const metrics = createHttpMetrics(deps.metrics, deps.db.pool);
  const limiter = createRequestLimiter(deps.config.rateLimitPerMin);
  const cors = createCorsPolicy(deps.config);
  const agentRoute = createAgentRoutes(services);

  const probe = (label: string, handle: Handler): Route => ({ label, probe: true, graphql: false, methods: ['GET', 'HEAD'], handle });
  const fixed: Record<string, Route> = {
    '/health': probe('/health', (_req, res) => sendHealth(res)),
    '/ready': probe('/ready', (_req, res) => sendReady(res, deps.db.pool, deps.config.databaseTimeoutMs)),
    '/metrics': probe('/metrics', (_req, res) => sendMetrics(res, deps.metrics)),
    // OPTIONS (preflights) is answered before any route; any other method is 405.
    '/graphql': { label: '/graphql', probe: false, graphql: true, methods: ['GET', 'POST'], handle: (req, res, onOperation) => serveGraphQL(yoga, req, res, onOperation) },
  };
  const fromRest = (r: RestRoute): Route => ({ label: r.label, probe: false, graphql: false, methods: [r.method], handle: r.handle });

  const server = http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    const reqId = requestIdOf(req);
    res.setHeader('x-request-id', reqId);
    const method = req.method ?? 'GET';
    const path = pathOf(req.url);
    const rest = fixed[path] ? null : agentRoute(path);
    const route = fixed[path] ?? (rest ? fromRest(rest) : null) ?? boardRoute(path);
    let operationName: unknown;

    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const label = route?.label ?? 'unmatched';
      metrics.observe(label, method, res.statusCode, seconds);
      if (route?.graphql) metrics.observeGraphQL(operationName, res.statusCode, seconds);
      logRequest(log, {
        reqId,
        method,
        path,
        route: label,
        status: res.statusCode,
        ms: Math.round(seconds * 1e4) / 10,
        probe: !!route?.probe,
        ...(typeof operationName === 'string' ? { operation: operationName.slice(0, 64) } : {}),
      });
    });

    // Every answer, those refused below included, carries the CORS headers its origin may read.
    cors.decorate(req, res);
    // Preflights are never rate limited (API.md), not even one for a path that does not exist.
    if (method === 'OPTIONS') return route ? cors.preflight(req, res) : sendError(res, 404, 'not found');
    if (!route?.probe && !limiter.admit(req, res, route?.graphql)) return;
    if (!route) return sendError(res, 404, 'not found');
    if (!route.methods.includes(method)) {
      return sendError(res, 405, 'method not allowed', { allow: route.methods.join(', ') });
    }
    const onOperation = (name: unknown) => {
      operationName = name;
    };
    Promise.resolve()
      .then(() => route.handle(req, res, onOperation))
      .catch((err: unknown) => {
        log.error({ err, reqId, route: route.label }, 'request failed');
        if (res.headersSent) res.destroy();
        // API.md "Outages": the agent routes (and any other) answer an outage with 503, never a 500.
        else if (isDatabaseUnavailable(err)) sendError(res, 503, 'database unavailable', { 'retry-after': String(RETRY_AFTER_S) });
        else sendError(res, 500, 'internal error');
      });
  });
  // A malformed request line or headers never reaches the handler; answer it plainly.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = JSON.stringify({ error: status === 431 ? 'request headers too large' : 'bad request' });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  return { server, yoga };
}

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
