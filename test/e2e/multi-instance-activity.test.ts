// workspaceActivity across two server instances on one PostgreSQL database: a heartbeat committed
// through one instance reaches a subscriber on the other within two seconds (a coalesced pg_notify, no
// event row), and heartbeats of one workspace arriving through both instances still reach a subscriber
// at most once per interval, with the newest state.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { startServer, type RunningServer } from '../../server.js';
import { createExternal } from '../graphql/fixtures.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';
import { connectWs, type Collected } from '../support/subscriptions.js';

const INTERVAL_MS = 500;
const ACTIVITY = `subscription($id: ID) { workspaceActivity(workspaceId: $id) { id uptimeSeconds } }`;

describe('workspaceActivity across instances', () => {
  let a: TestServer;
  let b: RunningServer;
  let bDataDir = '';

  beforeAll(async () => {
    a = await startTestServer({ INSTANCE_ID: 'activity-a', ACTIVITY_PUSH_INTERVAL_MS: String(INTERVAL_MS) });
    bDataDir = await mkdtemp(path.join(os.tmpdir(), 'ws-activity-b-'));
    b = await startServer(
      loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: a.database.url!,
        DATA_DIR: bDataDir,
        ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        SECRETS_ENCRYPTION_KEY: a.config.secretsEncryptionKey!,
        CONTAINER_RUNTIME: 'none',
        INSTANCE_ID: 'activity-b',
        ACTIVITY_PUSH_INTERVAL_MS: String(INTERVAL_MS),
        LOG_LEVEL: 'silent',
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.stop();
    await rm(bDataDir, { recursive: true, force: true });
  });

  async function heartbeat(server: { url: string }, agent: { id: string; token: string }, uptime: number): Promise<number> {
    const res = await fetch(`${server.url}/registry/heartbeat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${agent.token}` },
      body: JSON.stringify({ workspace_id: agent.id, error_rate: 0, sample_error: '', active_tasks: 0, uptime_seconds: uptime, current_task: '', runtime_state: '' }),
    });
    expect(res.status).toBe(200);
    return Date.now();
  }

  async function watchOn(server: RunningServer, id: string): Promise<{ collected: Collected; times: number[]; dispose: () => Promise<void> }> {
    const client = connectWs(server as TestServer);
    const before = server.services.activity.subscriberCount();
    const { collected } = client.subscribe(ACTIVITY, { id });
    while (server.services.activity.subscriberCount() === before) await new Promise((r) => setTimeout(r, 10));
    const times: number[] = [];
    const push = collected.push.bind(collected);
    collected.push = (r) => {
      times.push(Date.now());
      push(r);
    };
    return { collected, times, dispose: () => client.dispose() };
  }

  it('carries a heartbeat through one instance to a subscriber on the other within two seconds, writing no event', async () => {
    const { workspace, token } = await createExternal(a, { name: 'cross' });
    const agent = { id: workspace.id, token };
    await heartbeat(a, agent, 1);
    await new Promise((r) => setTimeout(r, 300));
    const onB = await watchOn(b, agent.id);
    const onA = await watchOn(a as unknown as RunningServer, agent.id);
    try {
      const cursor = (await a.gql('{ eventCursor }')).data.eventCursor;
      const committed = await heartbeat(a, agent, 2);
      await onB.collected.count(1, 2_000);
      expect(onB.times[0]! - committed).toBeLessThan(2_000);
      expect(onB.collected.results[0]!.data.workspaceActivity).toEqual({ id: agent.id, uptimeSeconds: 2 });
      await new Promise((r) => setTimeout(r, INTERVAL_MS + 100));
      const viaB = await heartbeat(b, agent, 3);
      await onA.collected.until((c) => c.results.some((r) => r.data.workspaceActivity.uptimeSeconds === 3), 2_000, 'the heartbeat made on B');
      expect(onA.times.at(-1)! - viaB).toBeLessThan(2_000);
      expect((await a.gql('{ eventCursor }')).data.eventCursor).toBe(cursor);
    } finally {
      await onA.dispose();
      await onB.dispose();
    }
  });

  it('delivers at most once per interval and the newest state when heartbeats come through both instances', async () => {
    const { workspace, token } = await createExternal(a, { name: 'both-ways' });
    const agent = { id: workspace.id, token };
    await heartbeat(a, agent, 1);
    await new Promise((r) => setTimeout(r, 300));
    const onB = await watchOn(b, agent.id);
    try {
      for (let uptime = 10; uptime < 40; uptime++) await heartbeat(uptime % 2 ? a : b, agent, uptime);
      await onB.collected.until((c) => c.results.at(-1)?.data.workspaceActivity.uptimeSeconds === 39, 2 * INTERVAL_MS + 2_000, 'the newest state');
      await new Promise((r) => setTimeout(r, INTERVAL_MS + 300));
      expect(onB.collected.results.at(-1)!.data.workspaceActivity.uptimeSeconds).toBe(39);
      expect(onB.collected.results.length).toBeLessThan(30);
      for (let i = 1; i < onB.times.length; i++) expect(onB.times[i]! - onB.times[i - 1]!).toBeGreaterThanOrEqual(INTERVAL_MS - 50);
    } finally {
      await onB.dispose();
    }
  });
});
