// Child process of bench/fanout.ts: opens many WebSocket subscribers (permessage-deflate off) and
// timestamps every message it receives. The same receive path serves both runs: graphql-ws
// (`graphql-transport-ws`: connection_init → ack → subscribe → next…) and the bare-ws baseline
// (the server just sends `next`-shaped JSON). Talks to the parent over IPC.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

export type ClientCommand =
  | {
      cmd: 'connect';
      mode: 'graphql' | 'baseline';
      url: string;
      count: number;
      token: string;
      query: string;
      /** Socket i subscribes with variablesList[i % length]. */
      variablesList: Array<Record<string, unknown>>;
    }
  | { cmd: 'count' }
  | { cmd: 'report' }
  | { cmd: 'close' };

export type ClientReply =
  | { kind: 'connected'; sockets: number; failed: number }
  | { kind: 'report'; received: Array<[string, number]>; errors: string[]; sample: string | null }
  /** received: event messages timestamped; nexts: every `next` message, events or not. */
  | { kind: 'count'; received: number; nexts: number }
  | { kind: 'closed' };

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one host. */
const now = () => performance.timeOrigin + performance.now();

const sockets: WebSocket[] = [];
let received: Array<[string, number]> = [];
/** `next` messages that carry no event (workspaceActivity), counted only. */
let nexts = 0;
const errors: string[] = [];
let sample: string | null = null;
/** Set while this process closes its own sockets (their 1006 is not an error). */
let closing = false;

function send(reply: ClientReply): void {
  process.send!(reply);
}

const EVENT_ID = '"event":{"id":"';
/**
 * The event id a `next` message carries (graphql-ws payload, or the same JSON from the baseline),
 * found without parsing: the receive path must cost the clients as little as possible, since on a
 * small machine they share the CPUs with the server they measure. Both runs use this same path.
 */
function eventIdOf(text: string): string | undefined {
  const at = text.indexOf(EVENT_ID);
  if (at < 0) return undefined;
  const from = at + EVENT_ID.length;
  return text.slice(from, text.indexOf('"', from));
}

const DATA_NEXT = '"type":"next","payload":{"data"';
/** A graphql-ws `next` with data (no errors), told without parsing: its type comes right after its id. */
function isDataNext(text: string): boolean {
  const at = text.indexOf(DATA_NEXT);
  return at > 0 && at < 64;
}

function open(c: Extract<ClientCommand, { cmd: 'connect' }>, index: number): Promise<boolean> {
  return new Promise((resolve) => {
    const protocol = c.mode === 'graphql' ? 'graphql-transport-ws' : undefined;
    const ws = new WebSocket(c.url, protocol, { perMessageDeflate: false });
    let settled = false;
    const settle = (ok: boolean) => {
      if (!settled) {
        settled = true;
        resolve(ok);
      }
    };
    ws.on('error', (err) => {
      if (errors.length < 20) errors.push(String(err.message));
      settle(false);
    });
    ws.on('close', (code) => {
      if (!closing && code !== 1000 && code !== 1005 && errors.length < 20) errors.push(`closed ${code}`);
      settle(false);
    });
    ws.on('open', () => {
      sockets.push(ws);
      if (c.mode === 'graphql') ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${c.token}` } }));
      else settle(true);
    });
    ws.on('message', (data) => {
      const t = now();
      const text = data.toString();
      const id = eventIdOf(text);
      if (id !== undefined) {
        sample ??= text;
        received.push([id, t]);
        return;
      }
      if (isDataNext(text)) {
        nexts += 1;
        return;
      }
      const msg = JSON.parse(text) as { type: string; payload?: any };
      if (msg.type === 'connection_ack') {
        const variables = c.variablesList[index % c.variablesList.length];
        ws.send(JSON.stringify({ id: String(index), type: 'subscribe', payload: { query: c.query, variables } }));
        settle(true);
        return;
      }
      if (errors.length < 20) errors.push(text.slice(0, 300));
    });
  });
}

async function connect(c: Extract<ClientCommand, { cmd: 'connect' }>): Promise<void> {
  let failed = 0;
  const BATCH = 250;
  for (let i = 0; i < c.count; i += BATCH) {
    const n = Math.min(BATCH, c.count - i);
    const oks = await Promise.all(Array.from({ length: n }, (_, k) => open(c, i + k)));
    failed += oks.filter((ok) => !ok).length;
  }
  send({ kind: 'connected', sockets: sockets.length, failed });
}

process.on('message', (c: ClientCommand) => {
  if (c.cmd === 'connect') {
    closing = false;
    received = [];
    nexts = 0;
    void connect(c);
  } else if (c.cmd === 'count') {
    send({ kind: 'count', received: received.length, nexts });
  } else if (c.cmd === 'report') {
    send({ kind: 'report', received, errors: errors.splice(0), sample });
    received = [];
  } else if (c.cmd === 'close') {
    closing = true;
    for (const ws of sockets.splice(0)) ws.terminate();
    sample = null;
    send({ kind: 'closed' });
  }
});
