// Two server processes on one PostgreSQL database: a change made through B reaches a subscriber on A
// (pg_notify → A's LISTEN → A's fan-out reads the log), and cutting A's LISTEN connection loses
// nothing, because A reconnects and catches up from the log from the last id it read.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenerApplicationName } from '../../services/events/listener.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';
import { eventually } from '../support/lifecycle-fixtures.js';
import { connectWs, waitForListeners, type WsClient } from '../support/subscriptions.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface ProcessServer {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `tsx server.ts` as a real second process, on the same database and keys as `a`. */
async function spawnInstance(a: TestServer, instanceId: string): Promise<ProcessServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ws-e2e-b-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: a.database.url!,
      DATA_DIR: dataDir,
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      SECRETS_ENCRYPTION_KEY: a.config.secretsEncryptionKey!,
      CONTAINER_RUNTIME: 'none',
      INSTANCE_ID: instanceId,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance ${instanceId} did not start:\n${output}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /"url":"(http:\/\/[^"]+)\/graphql"/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`instance ${instanceId} exited with ${code}:\n${output}`)));
  });
  return {
    url,
    child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function gqlAt(url: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data: any; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const CREATE = `mutation($name: String!) { createWorkspace(input: { name: $name, runtime: "external" }) {
  ... on CreateWorkspaceSuccess { workspace { id } } } }`;
const EVENTS = `subscription($after: ID) { workspaceEvents(afterEventId: $after) { id type workspaceId status } }`;

describe('events across server instances', () => {
  let a: TestServer;
  let b: ProcessServer;
  let admin: pg.Client;
  const clients: WsClient[] = [];

  beforeAll(async () => {
    a = await startTestServer({ INSTANCE_ID: 'instance-a' });
    b = await spawnInstance(a, 'instance-b');
    admin = new pg.Client({ connectionString: a.database.url });
    await admin.connect();
  }, 90_000);
  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await admin?.end();
    await b?.stop();
    await a?.stop();
  });

  async function listenerPids(instanceId: string): Promise<number[]> {
    const r = await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [
      listenerApplicationName(instanceId),
    ]);
    return r.rows.map((row) => row.pid);
  }

  it('delivers a change made through instance B to a subscriber on instance A', async () => {
    const c = connectWs(a);
    clients.push(c);
    const base = a.services.subscriptions.listenerCount();
    const { collected } = c.subscribe(EVENTS, {});
    await waitForListeners(a, base + 1);
    const created = await gqlAt(b.url, CREATE, { name: 'made-on-b' });
    const id = created.createWorkspace.workspace.id;
    await collected.until((x) => x.results.some((r) => r.data.workspaceEvents.workspaceId === id), 10_000, 'the event from B');
    const first = collected.results.find((r) => r.data.workspaceEvents.workspaceId === id)!;
    expect(first.data.workspaceEvents).toMatchObject({ type: 'WORKSPACE_AWAITING_AGENT', status: 'AWAITING_AGENT' });
  });

  it('loses nothing when A’s LISTEN connection is terminated: A reconnects and catches up from the log', async () => {
    const cursor = (await gqlAt(a.url, `{ eventCursor }`)).eventCursor as string;
    const c = connectWs(a);
    clients.push(c);
    const { collected } = c.subscribe(EVENTS, { after: cursor });
    const [pid] = await listenerPids('instance-a');
    expect(pid).toBeTypeOf('number');
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    // Changes committed on B while A is deaf (and right after it comes back).
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await gqlAt(b.url, CREATE, { name: `while-deaf-${i}` })).createWorkspace.workspace.id);
    await collected.until(
      (x) => ids.every((id) => x.results.some((r) => r.data.workspaceEvents.workspaceId === id)),
      15_000,
      'every event committed on B',
    );
    // A listens again, on a new connection. (The events may have arrived first: the fan-out's safety
    // poll reads the log while no LISTEN is in place, and the reconnect waits out its backoff.)
    const after = await eventually(async () => {
      const now = await listenerPids('instance-a');
      return now.length === 1 && now[0] !== pid ? now : undefined;
    }, 10_000, 'A listening again on a new connection');
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(pid);
    // Exactly the log after the cursor, in id order: no gap, no duplicate.
    const log = await admin.query<{ id: string }>(`SELECT id FROM workspace_events WHERE id > $1 ORDER BY id`, [cursor]);
    const received = collected.results.map((r) => r.data.workspaceEvents.id as string);
    await collected.until((x) => x.results.length >= log.rows.length, 5_000, 'the whole log slice');
    expect(collected.results.map((r) => r.data.workspaceEvents.id)).toEqual(log.rows.map((r) => String(r.id)));
    expect(new Set(received).size).toBe(received.length);
  });
});
