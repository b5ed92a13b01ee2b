// graphql-ws's protocol server (makeServer) over `ws` sockets. graphql-ws ships `useServer` for this;
// ours differs where thousands of idle subscribers add up: one keep-alive timer for all sockets
// instead of one per socket, the raw frame is turned into a string before the protocol handler runs
// (its async frame lives as long as a subscription, and would keep the frame's Buffer), and the
// connection keeps the peer's address rather than the whole upgrade request.
import { CloseCode, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../services/log.js';

export type WsExtra = {
  socket: WebSocket;
  /** The TCP peer (rate limits are per client IP). */
  ip: string;
};

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
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (err) => (err ? reject(err) : resolve()));
          }),
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
