// One GraphQL client per sign-in: urql with the normalized cache, HTTP for queries and mutations,
// graphql-ws for subscriptions, and the token on both. Dropped (socket closed, cache gone) at sign-out.
import { Client, fetchExchange, mapExchange, subscriptionExchange, type Exchange } from '@urql/core';
import { retryExchange } from '@urql/exchange-retry';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { notify } from '../lib/notices.ts';
import { boardCacheExchange } from './cache.ts';
import { markConnected, markLost, resetConnection, resyncs, serverUnavailable } from './connection.ts';
import { errorCode, requestErrorMessage } from './errors.ts';
import { createEventLog, type EventLog } from './event-log.ts';

export interface BoardApi {
  client: Client;
  ws: WsClient;
  log: EventLog;
  dispose(): void;
}

/** A pong that does not come back within this long means the link is dead (a frozen network). */
const PONG_TIMEOUT_MS = 5000;

export function createBoardApi(token: string, onRejected: () => void): BoardApi {
  resetConnection();
  const authorization = `Bearer ${token}`;
  const log = createEventLog();
  let pongTimer: ReturnType<typeof setTimeout> | undefined;
  // The socket's last events arrive after sign-out: they belong to no session any more.
  let disposed = false;

  const ws = createWsClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    connectionParams: { authorization },
    // No automatic retry: a retried subscription would resend its first afterEventId. The resumable
    // subscriptions (live.ts) subscribe again themselves, after the newest event they applied.
    retryAttempts: 0,
    keepAlive: 10_000,
    on: {
      connected: () => !disposed && markConnected(),
      closed: (event) => {
        clearTimeout(pongTimer);
        if (disposed) return;
        if ((event as CloseEvent | undefined)?.code === 4403) onRejected();
        else markLost();
      },
      error: () => !disposed && markLost(),
      ping: (received) => {
        if (!received) pongTimer = setTimeout(() => ws.terminate(), PONG_TIMEOUT_MS);
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
    },
  });

  // Rate limited: the views read again once the server's retryAfter has passed (one timer at a time).
  let resyncTimer: ReturnType<typeof setTimeout> | undefined;
  const resyncAfter = (seconds: number) => {
    if (resyncTimer) return;
    resyncTimer = setTimeout(() => {
      resyncTimer = undefined;
      resyncs.set(resyncs.get() + 1);
    }, seconds * 1000);
  };

  const errors: Exchange = mapExchange({
    onResult(result) {
      const code = errorCode(result.error);
      serverUnavailable.set(code === 'SERVICE_UNAVAILABLE' || (!!result.error?.networkError && result.operation.kind !== 'subscription'));
      if (code === 'UNAUTHENTICATED') onRejected();
      // Failed reads are retried (below) and shown by the connection state; a refused change is shown
      // by the view that made it; what is left is said here.
      else if (result.error && code === 'RATE_LIMITED') {
        notify('error', requestErrorMessage(result.error));
        resyncAfter(Number(result.error.graphQLErrors[0]?.extensions?.retryAfter) || 60);
      }
    },
  });

  const client = new Client({
    url: '/graphql',
    fetchOptions: () => ({ headers: { authorization } }),
    exchanges: [
      boardCacheExchange(log),
      retryExchange({
        initialDelayMs: 500,
        maxDelayMs: 10_000,
        maxNumberAttempts: Infinity,
        // Reads only: a change is never sent twice behind the user's back.
        // Not RATE_LIMITED: asking again before retryAfter only extends the wait (resyncAfter instead).
        retryIf: (error, operation) => operation.kind === 'query' && (!!error.networkError || errorCode(error) === 'SERVICE_UNAVAILABLE'),
      }),
      errors,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return { subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }) };
        },
      }),
    ],
  });

  return {
    client,
    ws,
    log,
    dispose() {
      disposed = true;
      clearTimeout(pongTimer);
      clearTimeout(resyncTimer);
      void ws.dispose();
      resetConnection();
    },
  };
}
