// API.md's register/heartbeat table, row by row, with the events each transition writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceStatus } from '../../services/workspaces/record.js';
import {
  agentCall,
  eventsOf,
  heartbeatBody,
  readRow,
  registerBody,
  seedWorkspace,
  tablesChecksum,
} from '../support/registry-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const WAITING: WorkspaceStatus[] = ['PROVISIONING', 'AWAITING_AGENT', 'OFFLINE', 'FAILED'];
const REFUSING: Array<[WorkspaceStatus, string]> = [
  ['PAUSED', 'workspace is paused'],
  ['HIBERNATING', 'workspace is hibernated'],
  ['HIBERNATED', 'workspace is hibernated'],
];

describe('register and heartbeat by status', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  const register = (id: string, token: string, extra: Record<string, unknown> = {}) =>
    agentCall(s, '/registry/register', { body: registerBody(id, extra), token });
  const heartbeat = (id: string, token: string, extra: Record<string, unknown> = {}) =>
    agentCall(s, '/registry/heartbeat', { body: heartbeatBody(id, extra), token });

  for (const from of WAITING) {
    it(`register moves ${from} to ONLINE, stores url and card, and writes one status event`, async () => {
      const w = await seedWorkspace(s, from);
      const r = await register(w.id, w.token, { url: 'http://10.0.0.7:9000/a2a', agent_card: { name: 'x', skills: [1] } });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ status: 'registered' });
      const row = await readRow(s, w.id);
      expect(row.status).toBe('ONLINE');
      expect(row.url).toBe('http://10.0.0.7:9000/a2a');
      expect(row.agent_card).toEqual({ name: 'x', skills: [1] });
      expect(row.last_heartbeat_at).not.toBeNull();
      const statusEvents = (await eventsOf(s, w.id)).filter((e) => e.status !== null);
      expect(statusEvents).toEqual([
        expect.objectContaining({ type: 'WORKSPACE_ONLINE', status: 'ONLINE', previous_status: from }),
      ]);
    });

    it(`heartbeat moves ${from} to ONLINE when healthy`, async () => {
      const w = await seedWorkspace(s, from);
      const r = await heartbeat(w.id, w.token, { error_rate: 0.2 });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ status: 'ok' });
      expect((await readRow(s, w.id)).status).toBe('ONLINE');
      expect(await eventsOf(s, w.id)).toEqual([
        expect.objectContaining({ type: 'WORKSPACE_ONLINE', status: 'ONLINE', previous_status: from }),
      ]);
    });

    it(`heartbeat moves ${from} straight to DEGRADED when it reports degradation`, async () => {
      const w = await seedWorkspace(s, from);
      expect((await heartbeat(w.id, w.token, { runtime_state: 'wedged' })).status).toBe(200);
      expect((await readRow(s, w.id)).status).toBe('DEGRADED');
      expect(await eventsOf(s, w.id)).toEqual([
        expect.objectContaining({ type: 'WORKSPACE_DEGRADED', status: 'DEGRADED', previous_status: from }),
      ]);
    });
  }

  it('register keeps ONLINE, updates url and card, and records the card change but no status event', async () => {
    const w = await seedWorkspace(s, 'ONLINE');
    const r = await register(w.id, w.token, { url: 'https://agent.internal:8443', agent_card: { v: 2 } });
    expect(r.status).toBe(200);
    const row = await readRow(s, w.id);
    expect(row).toMatchObject({ status: 'ONLINE', url: 'https://agent.internal:8443', agent_card: { v: 2 } });
    expect((await eventsOf(s, w.id)).map((e) => e.type)).toEqual(['AGENT_CARD_UPDATED']);
  });

  it('register with an unchanged card in ONLINE writes no event at all', async () => {
    const w = await seedWorkspace(s, 'ONLINE');
    expect((await register(w.id, w.token, { agent_card: { same: true } })).status).toBe(200);
    const before = (await eventsOf(s, w.id)).length;
    expect((await register(w.id, w.token, { agent_card: { same: true } })).status).toBe(200);
    expect(await eventsOf(s, w.id)).toHaveLength(before);
  });

  it('register keeps DEGRADED', async () => {
    const w = await seedWorkspace(s, 'DEGRADED');
    expect((await register(w.id, w.token)).status).toBe(200);
    expect((await readRow(s, w.id)).status).toBe('DEGRADED');
    expect((await eventsOf(s, w.id)).filter((e) => e.status !== null)).toEqual([]);
  });

  it('heartbeat moves ONLINE to DEGRADED at error_rate 0.5 exactly', async () => {
    const w = await seedWorkspace(s, 'ONLINE');
    expect((await heartbeat(w.id, w.token, { error_rate: 0.49 })).status).toBe(200);
    expect((await readRow(s, w.id)).status).toBe('ONLINE');
    expect((await heartbeat(w.id, w.token, { error_rate: 0.5 })).status).toBe(200);
    expect((await readRow(s, w.id)).status).toBe('DEGRADED');
    expect(await eventsOf(s, w.id)).toEqual([
      expect.objectContaining({ type: 'WORKSPACE_DEGRADED', status: 'DEGRADED', previous_status: 'ONLINE' }),
    ]);
  });

  it('heartbeat moves ONLINE to DEGRADED when the runtime is wedged, whatever the error rate', async () => {
    const w = await seedWorkspace(s, 'ONLINE');
    expect((await heartbeat(w.id, w.token, { error_rate: 0, runtime_state: 'wedged' })).status).toBe(200);
    expect((await readRow(s, w.id)).status).toBe('DEGRADED');
  });

  it('heartbeat keeps DEGRADED between 0.1 and 0.5 and while wedged, and recovers below 0.1', async () => {
    const w = await seedWorkspace(s, 'DEGRADED');
    expect((await heartbeat(w.id, w.token, { error_rate: 0.1 })).status).toBe(200);
    expect((await readRow(s, w.id)).status).toBe('DEGRADED');
    expect((await heartbeat(w.id, w.token, { error_rate: 0, runtime_state: 'wedged' })).status).toBe(200);
    expect((await readRow(s, w.id)).status).toBe('DEGRADED');
    expect(await eventsOf(s, w.id)).toEqual([]);
    expect((await heartbeat(w.id, w.token, { error_rate: 0.09 })).status).toBe(200);
    expect((await readRow(s, w.id)).status).toBe('ONLINE');
    expect(await eventsOf(s, w.id)).toEqual([
      expect.objectContaining({ type: 'WORKSPACE_ONLINE', status: 'ONLINE', previous_status: 'DEGRADED' }),
    ]);
  });

  for (const [status, message] of REFUSING) {
    it(`register and heartbeat answer 409 "${message}" in ${status} and change nothing`, async () => {
      const w = await seedWorkspace(s, status);
      const before = await tablesChecksum(s);
      for (const r of [await register(w.id, w.token), await heartbeat(w.id, w.token)]) {
        expect(r.status).toBe(409);
        expect(r.text).toBe(JSON.stringify({ error: message }));
      }
      expect(await tablesChecksum(s)).toBe(before);
    });
  }

  it('register and heartbeat answer 404 for a REMOVED workspace, even with its former token', async () => {
    const w = await seedWorkspace(s, 'REMOVED');
    for (const r of [await register(w.id, w.token), await heartbeat(w.id, w.token)]) {
      expect(r.status).toBe(404);
      expect(r.text).toBe(JSON.stringify({ workspace_id: w.id, deleted: true }));
    }
    expect((await readRow(s, w.id)).status).toBe('REMOVED');
  });

  it('register and heartbeat answer 404 for an unknown id', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const r of [await register(id, 'x'.repeat(43)), await heartbeat(id, 'x'.repeat(43))]) {
      expect(r.status).toBe(404);
      expect(r.text).toBe(JSON.stringify({ workspace_id: id, deleted: true }));
    }
  });

  it('heartbeat stores its columns and keeps the hibernation clock only while tasks are active', async () => {
    const w = await seedWorkspace(s, 'ONLINE');
    const r = await heartbeat(w.id, w.token, {
      error_rate: 0.25,
      sample_error: 'boom',
      active_tasks: 3,
      uptime_seconds: 1234,
      current_task: 'summarise',
    });
    expect(r.status).toBe(200);
    const busy = await readRow(s, w.id);
    expect(busy).toMatchObject({
      last_error_rate: 0.25,
      last_sample_error: 'boom',
      active_tasks: 3,
      uptime_seconds: 1234,
      current_task: 'summarise',
      runtime_state: '',
    });
    expect(busy.last_heartbeat_at).not.toBeNull();
    await new Promise((res) => setTimeout(res, 20));
    expect((await heartbeat(w.id, w.token, { active_tasks: 0 })).status).toBe(200);
    const idle = await readRow(s, w.id);
    expect(idle.last_active_at.getTime()).toBe(busy.last_active_at.getTime());
    expect(idle.last_heartbeat_at!.getTime()).toBeGreaterThan(busy.last_heartbeat_at!.getTime());
    expect(idle.active_tasks).toBe(0);
  });

  it('update-card stores the card and writes AGENT_CARD_UPDATED without changing the status', async () => {
    const w = await seedWorkspace(s, 'DEGRADED');
    const r = await agentCall(s, '/registry/update-card', { body: { workspace_id: w.id, agent_card: { skills: ['a'] } }, token: w.token });
    expect(r.status).toBe(200);
    expect(r.text).toBe('{"status":"updated"}');
    expect(await readRow(s, w.id)).toMatchObject({ status: 'DEGRADED', agent_card: { skills: ['a'] } });
    expect((await eventsOf(s, w.id)).map((e) => [e.type, e.status])).toEqual([['AGENT_CARD_UPDATED', null]]);
  });

  it('update-card answers 409 in PAUSED and HIBERNATED', async () => {
    for (const [status, message] of REFUSING) {
      const w = await seedWorkspace(s, status);
      const r = await agentCall(s, '/registry/update-card', { body: { workspace_id: w.id, agent_card: {} }, token: w.token });
      expect(r.status).toBe(409);
      expect(r.body).toEqual({ error: message });
    }
  });

  it('accepts an upper-case workspace id as the same workspace', async () => {
    const w = await seedWorkspace(s, 'OFFLINE');
    expect((await heartbeat(w.id.toUpperCase(), w.token)).status).toBe(200);
    expect((await readRow(s, w.id)).status).toBe('ONLINE');
  });
});
