// The one HTTP server: GraphQL (yoga) on /graphql, the agent REST routes and /health /ready /metrics
// beside it. WebSocket subscriptions attach to the same server (http/websocket.ts).
import http from 'node:http';
import type { Services } from '../services/index.js';
import { createGraphQLHandler, type Yoga } from './graphql.js';

export interface HttpApp {
  server: http.Server;
  yoga: Yoga;
}

export function createHttpApp(services: Services): HttpApp {
  const yoga = createGraphQLHandler(services);
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    void yoga(req, res, { req, res });
  });
  return { server, yoga };
}
