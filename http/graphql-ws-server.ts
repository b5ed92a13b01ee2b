// graphql-ws's protocol server (makeServer) over `ws` sockets. graphql-ws ships `useServer` for this;
// ours differs where thousands of idle subscribers add up: one keep-alive timer for all sockets
// instead of one per socket, the raw frame is turned into a string before the protocol handler runs
// (its async frame lives as long as a subscription, and would keep the frame's Buffer), and the
// connection keeps the peer's address rather than the whole upgrade request.
import type { Socket } from 'node:net';
import { CloseCode, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../services/log.js';

export type WsExtra = {
  socket: WebSocket;
  /** The TCP peer (rate limits are per client IP). */
  ip: string;
};

// Pre-serialised `next` payloads. Subscribers sharing one execution share one result object;
// serialising it once (not once per subscriber) is the difference between one JSON.stringify per event
// and thousands. graphql-ws builds every message with JSON.stringify(message, replacer) and hands the
// string straight to `send`; the replacer swaps a marked payload for a token, and `send` swaps the
// token for the payload's JSON. Stringify and send run back to back, with no await between them.
const RAW = Symbol('raw JSON payload');
const RAW_TOKEN = '\u0001raw-payload\u0001';
const RAW_TOKEN_JSON = JSON.stringify(RAW_TOKEN);
const serialised = new WeakMap<object, { [RAW]: string }>();
let pendingRaw: string | null = null;

/** The payload of a `next` message, serialised once per result object (use as graphql-ws onNext). */
export function preSerialisedPayload(result: object): object {
  let marked = serialised.get(result);
  if (!marked) {
    marked = { [RAW]: JSON.stringify(result) };
    serialised.set(result, marked);
  }
  return marked;
}

/** graphql-ws jsonMessageReplacer that pairs with preSerialisedPayload. */
export function rawPayloadReplacer(this: unknown, key: string, value: unknown): unknown {
  if (key === 'payload' && typeof value === 'object' && value !== null && RAW in value) {
    pendingRaw = (value as { [RAW]: string })[RAW];
    return RAW_TOKEN;
  }
  return value;
}

function withRawPayload(data: string): string {
  const raw = pendingRaw;
  if (raw === null) return data;
  pendingRaw = null;
  // The payload is the message's last property: a client-chosen id cannot shadow it.
  const at = data.lastIndexOf(RAW_TOKEN_JSON);
  return at < 0 ? data : data.slice(0, at) + raw + data.slice(at + RAW_TOKEN_JSON.length);
}

const SEND_HIGH_WATER_BYTES = 64 * 1024;

// Many messages to one socket in one turn of the event loop (a subscriber of every workspace gets a
// burst of workspaceActivity deliveries at once) go out in one write: each socket written to is corked
// at its first message of the turn and uncorked when the turn is over. Without it every message is its
// own writev system call, which took a third of the server's CPU time with 40,000 messages a second.
const corked = new Set<Socket>();
let uncorkScheduled = false;

function uncorkAll(): void {
  uncorkScheduled = false;
  for (const raw of corked) raw.uncork();
  corked.clear();
}

function corkForThisTurn(socket: WebSocket): void {
  // ws keeps the TCP socket in a private field; without it, messages are simply written one by one.
  const raw = (socket as unknown as { _socket?: Socket })._socket;
  if (!raw || corked.has(raw)) return;
  raw.cork();
  corked.add(raw);
  if (!uncorkScheduled) {
    uncorkScheduled = true;
    setImmediate(uncorkAll);
  }
}

export interface GraphQLWsServer {
  dispose(): Promise<void>;
}

const alive = new WeakSet<WebSocket>();
function markAlive(this: WebSocket): void {
  alive.add(this);
}

export function serveGraphQLWs<P extends Record<string, unknown>>(
  wss: WebSocketServer,
  options: ServerOptions<P, WsExtra>,
  keepAliveMs: number,
  log: Logger,
): GraphQLWsServer {
  const server = makeServer<P, WsExtra>(options);

  wss.on('connection', (socket: WebSocket, request: { socket: { remoteAddress?: string } }) => {
    const extra: WsExtra = { socket, ip: request.socket.remoteAddress ?? 'unknown' };
    socket.once('error', (err) => {
      log.debug({ err }, 'websocket error');
      socket.terminate();
    });
    alive.add(socket);
    socket.on('pong', markAlive);
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (message) => {
          const data = withRawPayload(message);
          if (socket.readyState !== socket.OPEN) return;
          corkForThisTurn(socket);
          // Backpressure: graphql-ws waits for what send returns before it pulls the subscription's
          // next event. While the socket keeps up, nothing to wait for; once a client stops reading
          // and data piles up, wait until this message is written out (the subscriber's bounded
          // queue, then the log, hold the rest).
          if (socket.bufferedAmount < SEND_HIGH_WATER_BYTES) {
            socket.send(data);
            return;
          }
          return new Promise<void>((resolve, reject) => socket.send(data, (err) => (err ? reject(err) : resolve())));
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) =>
          socket.on('message', (data: Buffer) => {
            cb(data.toString()).catch((err: unknown) => {
              log.error({ err }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      extra,
    );
    socket.once('close', (code, reason) => {
      closed(code, reason.toString()).catch((err: unknown) => log.warn({ err }, 'graphql-ws close handling failed'));
    });
  });

  // A socket that has not answered the previous ping by the next tick is gone: drop it (its
  // subscriptions are torn down by the close handler above).
  const timer = setInterval(() => {
    for (const socket of wss.clients) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      try {
        socket.ping();
      } catch {
        socket.terminate();
      }
    }
  }, keepAliveMs);
  timer.unref();

  return {
    async dispose() {
      clearInterval(timer);
      for (const socket of wss.clients) socket.close(1001, 'Going away');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
