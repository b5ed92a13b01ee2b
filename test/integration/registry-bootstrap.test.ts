// The register bootstrap path (REGISTRY_BOOTSTRAP): off by default; when on, only a tokenless
// workspace waiting for an agent gets exactly one token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceStatus } from '../../services/workspaces/record.js';
import {
  agentCall,
  eventsOf,
  heartbeatBody,
  liveTokenCount,
  readRow,
  registerBody,
  seedWorkspace,
  tablesChecksum,
} from '../support/registry-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('register bootstrap, REGISTRY_BOOTSTRAP=true', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ REGISTRY_BOOTSTRAP: 'true' });
  });
  afterAll(async () => {
    await s?.stop();
  });

  const registerNoAuth = (id: string) => agentCall(s, '/registry/register', { body: registerBody(id) });

  for (const status of ['AWAITING_AGENT', 'OFFLINE', 'FAILED'] as WorkspaceStatus[]) {
    it(`mints one token for a tokenless ${status} workspace, goes ONLINE and records TOKEN_ISSUED source bootstrap`, async () => {
      const w = await seedWorkspace(s, status, { token: false });
      const r = await registerNoAuth(w.id);
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(['auth_token', 'status']);
      expect(r.body.status).toBe('registered');
      expect(r.body.auth_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect((await readRow(s, w.id)).status).toBe('ONLINE');
      expect(await liveTokenCount(s, w.id)).toBe(1);
      const events = await eventsOf(s, w.id);
      expect(events.find((e) => e.type === 'TOKEN_ISSUED')?.payload).toMatchObject({ source: 'bootstrap' });
      expect(events.find((e) => e.type === 'WORKSPACE_ONLINE')).toMatchObject({ status: 'ONLINE', previous_status: status });
      // the minted token is a working agent token
      const hb = await agentCall(s, '/registry/heartbeat', { body: heartbeatBody(w.id), token: r.body.auth_token });
      expect(hb.status).toBe(200);
    });
  }

  it('refuses (401, nothing changes) when the workspace already has a live token', async () => {
    const w = await seedWorkspace(s, 'AWAITING_AGENT');
    const before = await tablesChecksum(s);
    const r = await registerNoAuth(w.id);
    expect(r.status).toBe(401);
    expect(r.text).toBe('{"error":"invalid workspace token"}');
    expect(await tablesChecksum(s)).toBe(before);
  });

  for (const status of ['PROVISIONING', 'ONLINE', 'DEGRADED', 'PAUSED', 'HIBERNATED'] as WorkspaceStatus[]) {
    it(`refuses with 401 a tokenless ${status} workspace`, async () => {
      const w = await seedWorkspace(s, status, { token: false });
      const r = await registerNoAuth(w.id);
      expect(r.status).toBe(401);
      expect(await liveTokenCount(s, w.id)).toBe(0);
      expect((await readRow(s, w.id)).status).toBe(status);
    });
  }

  it('answers 404 for REMOVED and unknown workspaces', async () => {
    const w = await seedWorkspace(s, 'REMOVED', { token: false });
    expect((await registerNoAuth(w.id)).status).toBe(404);
    expect((await registerNoAuth('00000000-0000-4000-8000-00000000b007')).status).toBe(404);
    expect(await liveTokenCount(s, w.id)).toBe(0);
  });

  it('does not bootstrap when an Authorization header is present but bad', async () => {
    const w = await seedWorkspace(s, 'AWAITING_AGENT', { token: false });
    const r = await agentCall(s, '/registry/register', { body: registerBody(w.id), token: 'not-a-token' });
    expect(r.status).toBe(401);
    expect(await liveTokenCount(s, w.id)).toBe(0);
  });

  it('heartbeat and update-card never bootstrap', async () => {
    const w = await seedWorkspace(s, 'AWAITING_AGENT', { token: false });
    expect((await agentCall(s, '/registry/heartbeat', { body: heartbeatBody(w.id) })).status).toBe(401);
    expect((await agentCall(s, '/registry/update-card', { body: { workspace_id: w.id, agent_card: {} } })).status).toBe(401);
    expect(await liveTokenCount(s, w.id)).toBe(0);
    expect((await readRow(s, w.id)).status).toBe('AWAITING_AGENT');
  });

  it('of concurrent bootstrap registers exactly one mints a token', async () => {
    const w = await seedWorkspace(s, 'AWAITING_AGENT', { token: false });
    const results = await Promise.all(Array.from({ length: 8 }, () => registerNoAuth(w.id)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(7);
    expect(await liveTokenCount(s, w.id)).toBe(1);
    expect((await eventsOf(s, w.id)).filter((e) => e.type === 'TOKEN_ISSUED')).toHaveLength(1);
  });
});

describe('register bootstrap, off by default', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('answers a register without a token with 401 and mints nothing', async () => {
    const w = await seedWorkspace(s, 'AWAITING_AGENT', { token: false });
    const r = await agentCall(s, '/registry/register', { body: registerBody(w.id) });
    expect(r.status).toBe(401);
    expect(r.text).toBe('{"error":"invalid workspace token"}');
    expect(await liveTokenCount(s, w.id)).toBe(0);
    expect((await readRow(s, w.id)).status).toBe('AWAITING_AGENT');
  });
});
