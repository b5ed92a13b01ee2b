// Real subscription clients for tests: graphql-ws over `ws`, and yoga's SSE over fetch. Both collect
// what arrives so a test can wait for a number of results, an error or the end.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestServer } from './server.js';
import { TEST_ADMIN_TOKEN } from './server.js';

export interface Result {
  data?: any;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** What one subscription has received so far. */
export class Collected {
  results: Result[] = [];
  /** Errors that ended the subscription (graphql-ws `error` message, or a close). */
  error: unknown = null;
  done = false;
  private waiters: Array<() => void> = [];

  push(r: Result): void {
    this.results.push(r);
    this.notify();
  }

  end(error: unknown = null): void {
    if (this.done) return;
    this.error = error;
    this.done = true;
    this.notify();
  }

  /** Resolves once `predicate` holds, or rejects after `timeoutMs` with what arrived. */
  async until(predicate: (c: Collected) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify({ results: this.results, error: String(this.error), done: this.done })}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /**
   * The code a subscription was refused or ended with: from a result's errors (how graphql-ws and SSE
   * carry errors raised while subscribing) or from a graphql-ws `error` message.
   */
  errorCode(): string | undefined {
    const fromResult = this.results.find((r) => r.errors?.length)?.errors?.[0]?.extensions?.code;
    if (fromResult !== undefined) return String(fromResult);
    const e = this.error as Array<{ extensions?: { code?: string } }> | null;
    return Array.isArray(e) ? e[0]?.extensions?.code : undefined;
  }

  count(n: number, timeoutMs?: number): Promise<void> {
    return this.until((c) => c.results.length >= n, timeoutMs, `${n} results`);
  }

  ended(timeoutMs?: number): Promise<void> {
    return this.until((c) => c.done, timeoutMs, 'the end of the subscription');
  }

  private notify(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

export interface WsClient {
  client: Client;
  subscribe(query: string, variables?: Record<string, unknown>): { collected: Collected; unsubscribe: () => void };
  /** Close codes the socket saw (4403 for an invalid credential). */
  closes: number[];
  dispose(): Promise<void>;
}

export function wsUrl(server: TestServer): string {
  return `${server.url.replace(/^http/, 'ws')}/graphql`;
}

/** A graphql-ws client; `token` null = no credential (ANONYMOUS). */
export function connectWs(server: TestServer, token: string | null = TEST_ADMIN_TOKEN, extraParams: Record<string, unknown> = {}): WsClient {
  const closes: number[] = [];
  const client = createClient({
    url: wsUrl(server),
    webSocketImpl: class extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { perMessageDeflate: false });
      }
    },
    connectionParams: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...extraParams },
    retryAttempts: 0,
    lazy: true,
    on: { closed: (e) => closes.push((e as { code: number }).code) },
  });
  return {
    client,
    closes,
    subscribe(query, variables) {
      const collected = new Collected();
      const unsubscribe = client.subscribe(
        { query, variables },
        {
          next: (r) => collected.push(r as Result),
          error: (e) => collected.end(e ?? 'error'),
          complete: () => collected.end(null),
        },
      );
      return { collected, unsubscribe };
    },
    dispose: async () => {
      await client.dispose();
    },
  };
}

/** An SSE subscription (yoga's "distinct connections" mode); `stop()` aborts the request. */
export function subscribeSse(
  server: TestServer,
  query: string,
  variables: Record<string, unknown> = {},
  token: string | null = TEST_ADMIN_TOKEN,
): { collected: Collected; stop: () => void; status: Promise<number> } {
  const collected = new Collected();
  const abort = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream', 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const status = fetch(`${server.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }), signal: abort.signal }).then(
    (res) => {
      void readSse(res, collected).catch((err) => collected.end(abort.signal.aborted ? null : err));
      return res.status;
    },
  );
  status.catch((err) => collected.end(err));
  return { collected, stop: () => abort.abort(), status };
}

async function readSse(res: Response, collected: Collected): Promise<void> {
  if (!res.body) return collected.end('no body');
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let sep: number;
    while ((sep = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, sep);
      buf = buf.slice(sep + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (event === 'complete') return collected.end(null);
      if (data.length > 0) collected.push(JSON.parse(data.join('\n')) as Result);
    }
  }
  collected.end(null);
}

/** Waits until the server has `n` subscribers registered with its fan-out. */
export async function waitForListeners(server: TestServer, n: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (server.services.subscriptions.listenerCount() !== n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} listeners, have ${server.services.subscriptions.listenerCount()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
