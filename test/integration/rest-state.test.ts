// GET /workspaces/:id/state: the agent's poll. Workspace tokens read their own workspace; admin and
// org tokens read any; the 404 answers before the token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentCall, seedOrgToken, seedWorkspace, type Seeded } from '../support/registry-fixtures.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';

describe('GET /workspaces/:id/state', () => {
  let s: TestServer;
  let online: Seeded;
  let orgToken: string;
  beforeAll(async () => {
    s = await startTestServer();
    online = await seedWorkspace(s, 'ONLINE');
    orgToken = await seedOrgToken(s);
  });
  afterAll(async () => {
    await s?.stop();
  });

  const state = (id: string, token: string | null) => agentCall(s, `/workspaces/${id}/state`, { token, contentType: null });

  it('answers its own workspace token with the exact body, status lower-case', async () => {
    const r = await state(online.id, online.token);
    expect(r.status).toBe(200);
    expect(r.text).toBe(`{"workspace_id":"${online.id}","status":"online","paused":false,"deleted":false}`);
  });

  it('answers the admin token and an org token', async () => {
    for (const token of [TEST_ADMIN_TOKEN, orgToken]) {
      const r = await state(online.id, token);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ workspace_id: online.id, status: 'online', paused: false, deleted: false });
    }
  });

  it('reports paused: true for a PAUSED workspace and the status of a hibernated one', async () => {
    const paused = await seedWorkspace(s, 'PAUSED');
    expect((await state(paused.id, paused.token)).body).toEqual({ workspace_id: paused.id, status: 'paused', paused: true, deleted: false });
    const hib = await seedWorkspace(s, 'HIBERNATED');
    expect((await state(hib.id, hib.token)).body).toMatchObject({ status: 'hibernated', paused: false });
    const waiting = await seedWorkspace(s, 'AWAITING_AGENT');
    expect((await state(waiting.id, waiting.token)).body).toMatchObject({ status: 'awaiting_agent' });
  });

  it('refuses with 401 no token, a bad token and another workspace token', async () => {
    const other = await seedWorkspace(s, 'ONLINE');
    for (const token of [null, 'bogus', other.token]) {
      const r = await state(online.id, token);
      expect(r.status).toBe(401);
      expect(r.text).toBe('{"error":"invalid workspace token"}');
    }
  });

  it('answers 404 before looking at the token: unknown, not a UUID, REMOVED (even for the admin)', async () => {
    const removed = await seedWorkspace(s, 'REMOVED');
    const unknown = '00000000-0000-4000-8000-0000000000cc';
    for (const [id, token] of [
      [unknown, null],
      ['nope', null],
      [removed.id, removed.token],
      [removed.id, TEST_ADMIN_TOKEN],
    ] as const) {
      const r = await state(id, token);
      expect(r.status, id).toBe(404);
      expect(r.text).toBe(`{"workspace_id":"${id}","deleted":true}`);
    }
  });
});
