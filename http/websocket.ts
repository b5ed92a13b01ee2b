// GraphQL over WebSocket (graphql-transport-ws) on /graphql of the one HTTP server. The credential is
// `connectionParams.authorization: "Bearer <token>"`: an invalid one closes with 4403 at
// connection_init; none is ANONYMOUS (a subscribe then answers UNAUTHENTICATED). Each subscribe is
// parsed, validated (with the document limits) and given its context through yoga's envelop, whose
// context factory re-authenticates; subscriptions then run the shared execution, masked as yoga masks.
// Limits: a connection-init timeout, keep-alive pings, a maximum of subscriptions per connection, and
// the per-IP rate limit on upgrades and subscribes. A subscriber evicted for staying behind closes
// its connection with SLOW_CONSUMER_CLOSE_CODE.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { getOperationAST, GraphQLError, type ExecutionArgs } from 'graphql';
import type { ServerOptions, Context as WsContext } from 'graphql-ws';
import { WebSocketServer } from 'ws';
import { registerEvictor } from '../services/events/subscriptions.js';
import type { Services } from '../services/index.js';
import { FixedWindowLimiter } from '../services/rate-limit.js';
import type { Yoga } from './graphql.js';
import { createMaskError } from './graphql-hardening.js';
import { preSerialisedPayload, rawPayloadReplacer, serveGraphQLWs, type WsExtra } from './graphql-ws-server.js';
import { createSharedSubscribe } from './subscription-execution.js';

export const GRAPHQL_WS_PATH = '/graphql';
/** Closes a connection whose subscriber stayed behind past the limit; the client resubscribes with afterEventId. */
export const SLOW_CONSUMER_CLOSE_CODE = 4410;

export interface WebSocketOptions {
  /** ws-level pings; a peer that does not answer within the same interval is dropped. */
  keepAliveMs: number;
  /** A connection that sends no connection_init in time is closed (4408). */
  connectionInitTimeoutMs: number;
  maxSubscriptionsPerConnection: number;
  /** Per client IP, for upgrades and subscribe messages (API.md's RATE_LIMIT_PER_MIN). */
  rateLimitPerMin: number;
  maxPayloadBytes: number;
}

export const DEFAULT_WEBSOCKET_OPTIONS: Omit<WebSocketOptions, 'rateLimitPerMin'> = {
  keepAliveMs: 12_000,
  connectionInitTimeoutMs: 5_000,
  maxSubscriptionsPerConnection: 50,
  maxPayloadBytes: 1024 * 1024,
};

export interface WebSocketTransport {
  /** Open WebSocket connections. */
  readonly connections: number;
  close(): Promise<void>;
}

const gqlError = (message: string, code: string) => new GraphQLError(message, { extensions: { code } });

function authorizationOf(params: Readonly<Record<string, unknown>> | undefined): string | null | false {
  const a = params?.authorization ?? params?.Authorization;
  if (a === undefined || a === null || a === '') return null;
  return typeof a === 'string' ? a : false;
}

export function attachWebSocket(server: Server, yoga: Yoga, services: Services, options: Partial<WebSocketOptions> = {}): WebSocketTransport {
  const opts: WebSocketOptions = { ...DEFAULT_WEBSOCKET_OPTIONS, rateLimitPerMin: services.deps.config.rateLimitPerMin, ...options };
  const log = services.deps.log;
  const limiter = new FixedWindowLimiter(opts.rateLimitPerMin, 60_000);
  // No answer header to echo on a socket: each masked error gets its own id, in the log line and in
  // extensions.requestId.
  const maskError = createMaskError(log, () => randomUUID());
  const subscribe = createSharedSubscribe({ maskError: (err) => maskError(err, 'Unexpected error.') });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: opts.maxPayloadBytes });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== GRAPHQL_WS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const d = limiter.hit(req.socket.remoteAddress ?? 'unknown');
    if (!d.allowed) {
      socket.end(`HTTP/1.1 429 Too Many Requests\r\nRetry-After: ${d.retryAfterS}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);

  const handle = serveGraphQLWs<Record<string, unknown>>(
    wss,
    {
      connectionInitWaitTimeout: opts.connectionInitTimeoutMs,
      onConnect: async (ctx) => {
        const authorization = authorizationOf(ctx.connectionParams);
        if (authorization === false) return false;
        const auth = await services.auth.authenticate(authorization);
        return auth.ok; // false → 4403 Forbidden
      },
      // Every subscriber sends the same few documents: keep one copy of each query string, not one
      // per subscription (graphql-ws holds the subscribe message for the subscription's lifetime).
      jsonMessageReviver: (key, value) => (key === 'query' && typeof value === 'string' ? intern(value) : value),
      // One serialisation per shared result, not one per subscriber (see graphql-ws-server.ts).
      jsonMessageReplacer: rawPayloadReplacer,
      onNext: (_ctx, _id, _payload, _args, result) => preSerialisedPayload(result) as never,
      // Queries and mutations run yoga's enveloped execute (it travels in rootValue, yoga's recipe).
      // Subscriptions run the shared execution directly, masked like yoga masks: yoga's per-result
      // wrappers would cost every subscriber a chain of iterators and closures for as long as it lives.
      execute: (args: ExecutionArgs) => (args.rootValue as Enveloped).execute(args),
      subscribe: async (args: ExecutionArgs) => {
        const result = await subscribe(args);
        // graphql-ws keeps these args for the subscription's lifetime; the stream has what it needs.
        (args as { contextValue?: unknown }).contextValue = undefined;
        return result;
      },
      onSubscribe: async (ctx: WsContext<Record<string, unknown>, WsExtra>, _id, params) => {
        const open = Object.keys(ctx.subscriptions).length; // includes this one
        if (open > opts.maxSubscriptionsPerConnection) {
          return [gqlError(`at most ${opts.maxSubscriptionsPerConnection} subscriptions per connection`, 'TOO_MANY_SUBSCRIPTIONS')];
        }
        const decision = limiter.hit(ctx.extra.ip);
        if (!decision.allowed) {
          return [new GraphQLError('rate limit exceeded', { extensions: { code: 'RATE_LIMITED', retryAfter: decision.retryAfterS } })];
        }
        const authorization = authorizationOf(ctx.connectionParams) || null;
        // What the context factory reads of a request: its headers (a Request object would be kept,
        // with its URL, headers and signal, by every subscription's context).
        const request = { headers: { get: (name: string) => (name.toLowerCase() === 'authorization' ? authorization : null) } };
        const { schema, execute, contextFactory, parse, validate } = yoga.getEnveloped({
          // The context factory reads the peer address from the node request.
          req: { socket: { remoteAddress: ctx.extra.ip } },
          request,
          socket: ctx.extra.socket,
          params,
        });
        let document;
        try {
          document = parse(params.query);
        } catch (err) {
          return [err instanceof GraphQLError ? err : gqlError('could not parse the document', 'GRAPHQL_PARSE_FAILED')];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        let built: Record<string, unknown>;
        try {
          // yoga's context factory re-authenticates: a token revoked since connection_init is refused here.
          built = await contextFactory();
        } catch (err) {
          if (err instanceof GraphQLError) return [err];
          throw err;
        }
        const isSubscription = getOperationAST(document, params.operationName)?.operation === 'subscription';
        // A subscription keeps its context for as long as it lives: not the transport objects.
        const { req: _req, request: _request, socket: _socket, params: _params, ...contextValue } = built;
        const socket = ctx.extra.socket;
        registerEvictor(contextValue, () => {
          socket.close(SLOW_CONSUMER_CLOSE_CODE, 'subscriber fell behind; resubscribe with afterEventId');
          // The close frame waits behind the unread data; do not wait for ever.
          setTimeout(() => socket.terminate(), 5_000).unref();
        });
        return {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue,
          rootValue: isSubscription ? undefined : ({ execute } as Enveloped),
        };
      },
    },
    opts.keepAliveMs,
    log,
  );

  return {
    get connections() {
      return wss.clients.size;
    },
    async close() {
      server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.terminate();
      await handle.dispose().catch((err: unknown) => log.debug({ err }, 'websocket server close'));
    },
  };
}

type OperationResult = ReturnType<NonNullable<ServerOptions['execute']>>;
interface Enveloped {
  execute: (args: ExecutionArgs) => OperationResult;
}

const interned = new Map<string, string>();
function intern(s: string): string {
  const known = interned.get(s);
  if (known !== undefined) return known;
  if (interned.size >= 1000) interned.clear(); // bounded: a stream of distinct documents just stops sharing
  interned.set(s, s);
  return s;
}
