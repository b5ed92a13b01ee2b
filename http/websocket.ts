// GraphQL over WebSocket (graphql-transport-ws) on /graphql of the one HTTP server. The credential is
// `connectionParams.authorization: "Bearer <token>"`: an invalid one closes with 4403 at
// connection_init; none is ANONYMOUS (a subscribe then answers UNAUTHENTICATED). Each subscribe goes
// through yoga's envelop (its context factory re-authenticates, masking and the shared subscription
// execution apply as for SSE).
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import type { ServerOptions, Context as WsContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { registerEvictor } from '../services/events/subscriptions.js';
import type { Services } from '../services/index.js';
import { FixedWindowLimiter } from '../services/rate-limit.js';
import type { Yoga } from './graphql.js';

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

// A type alias, not an interface: graphql-ws wants it assignable to Record<PropertyKey, unknown>.
type Extra = {
  socket: WebSocket;
  request: IncomingMessage;
};

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

  const handle = useServer<Record<string, unknown>, Extra>(
    {
      connectionInitWaitTimeout: opts.connectionInitTimeoutMs,
      onConnect: async (ctx) => {
        const authorization = authorizationOf(ctx.connectionParams);
        if (authorization === false) return false;
        const auth = await services.auth.authenticate(authorization);
        return auth.ok; // false → 4403 Forbidden
      },
      // The enveloped functions travel in rootValue (yoga's recipe for graphql-ws).
      execute: (args: ExecutionArgs) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args: ExecutionArgs) => (args.rootValue as Enveloped).subscribe(args),
      onSubscribe: async (ctx: WsContext<Record<string, unknown>, Extra>, _id, params) => {
        const open = Object.keys(ctx.subscriptions).length; // includes this one
        if (open > opts.maxSubscriptionsPerConnection) {
          return [gqlError(`at most ${opts.maxSubscriptionsPerConnection} subscriptions per connection`, 'TOO_MANY_SUBSCRIPTIONS')];
        }
        if (!limiter.hit(ctx.extra.request.socket.remoteAddress ?? 'unknown').allowed) {
          return [gqlError('rate limit exceeded', 'RATE_LIMITED')];
        }
        const authorization = authorizationOf(ctx.connectionParams) || '';
        const request = new Request(`http://localhost${GRAPHQL_WS_PATH}`, {
          headers: authorization ? { authorization } : {},
        });
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          req: ctx.extra.request,
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
        let contextValue: Record<string, unknown>;
        try {
          // yoga's context factory re-authenticates: a token revoked since connection_init is refused here.
          contextValue = await contextFactory();
        } catch (err) {
          if (err instanceof GraphQLError) return [err];
          throw err;
        }
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
          rootValue: { execute, subscribe } as Enveloped,
        };
      },
    },
    wss,
    opts.keepAliveMs,
  );

  return {
    get connections() {
      return wss.clients.size;
    },
    async close() {
      server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.terminate();
      await Promise.resolve(handle.dispose()).catch((err: unknown) => log.debug({ err }, 'websocket server close'));
    },
  };
}

type OperationResult = ReturnType<NonNullable<ServerOptions['execute']>>;
interface Enveloped {
  execute: (args: ExecutionArgs) => OperationResult;
  subscribe: (args: ExecutionArgs) => OperationResult;
}
