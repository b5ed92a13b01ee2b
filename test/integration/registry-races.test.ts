// A heartbeat or register racing with a restart: the restart revokes the tokens and writes
// PROVISIONING (generation + 1) in one transaction. The old agent's call must never flip the fresh
// PROVISIONING row ONLINE, even when its statement started before the restart committed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbMode } from '../support/database.js';
import { agentCall, heartbeatBody, readRow, registerBody, seedToken, seedWorkspace } from '../support/registry-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('agent calls racing with a restart', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  /** Waits until an agentWrite statement is blocked on a row lock (server database only: embedded
   * PGlite serialises transactions, so the call simply waits for the restart to commit). */
  async function untilAgentWriteWaits(): Promise<void> {
    if (dbMode() === 'embedded') {
      await new Promise((r) => setTimeout(r, 200));
      return;
    }
    for (let i = 0; i < 200; i++) {
      const rows = await s.db.prisma.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND query LIKE '%agentWrite%' AND pid <> pg_backend_pid()`;
      if (rows[0]!.n > 0) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('the agent call never waited on the restart');
  }

  for (const [name, call] of [
    ['heartbeat', (id: string, token: string) => agentCall(s, '/registry/heartbeat', { body: heartbeatBody(id), token })],
    ['register', (id: string, token: string) => agentCall(s, '/registry/register', { body: registerBody(id), token })],
    // update-card always runs inside a transaction: the snapshot/lock comparison is what refuses it
    ['update-card', (id: string, token: string) =>
      agentCall(s, '/registry/update-card', { body: { workspace_id: id, agent_card: { stale: true } }, token })],
  ] as const) {
    it(`a ${name} whose statement began before the restart committed is refused with 401`, async () => {
      const w = await seedWorkspace(s, 'ONLINE');
      const restart = await s.db.pool.connect();
      try {
        await restart.query('BEGIN');
        await restart.query(
          `UPDATE workspaces SET status = 'PROVISIONING', generation = generation + 1 WHERE id = $1`,
          [w.id],
        );
        await restart.query(`UPDATE workspace_auth_tokens SET revoked_at = now() WHERE workspace_id = $1`, [w.id]);
        const pending = call(w.id, w.token);
        await untilAgentWriteWaits();
        await restart.query('COMMIT');
        const r = await pending;
        expect(r.status).toBe(401);
        const row = await readRow(s, w.id);
        expect(row.status).toBe('PROVISIONING');
        expect(row.agent_card).toBeNull();
      } finally {
        restart.release();
      }
      // the new agent, with the token provisioning writes, is accepted
      const fresh = await seedToken(s, w.id);
      expect((await call(w.id, fresh)).status).toBe(200);
      if (name !== 'update-card') expect((await readRow(s, w.id)).status).toBe('ONLINE');
    });
  }

  it('a heartbeat racing with a pause answers 409 and leaves the row PAUSED', async () => {
    const w = await seedWorkspace(s, 'ONLINE');
    const pause = await s.db.pool.connect();
    try {
      await pause.query('BEGIN');
      await pause.query(`UPDATE workspaces SET status = 'PAUSED' WHERE id = $1`, [w.id]);
      const pending = agentCall(s, '/registry/heartbeat', { body: heartbeatBody(w.id), token: w.token });
      await untilAgentWriteWaits();
      await pause.query('COMMIT');
      const r = await pending;
      expect(r.status).toBe(409);
      expect(r.body).toEqual({ error: 'workspace is paused' });
    } finally {
      pause.release();
    }
    expect((await readRow(s, w.id)).status).toBe('PAUSED');
  });

  it('concurrent heartbeats of one agent all succeed and leave one status event', async () => {
    const w = await seedWorkspace(s, 'OFFLINE');
    const results = await Promise.all(
      Array.from({ length: 10 }, () => agentCall(s, '/registry/heartbeat', { body: heartbeatBody(w.id), token: w.token })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const events = await s.db.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM workspace_events WHERE workspace_id = ${w.id}::uuid AND status IS NOT NULL`;
    expect(events[0]!.n).toBe(1);
  });

  it('bumps the token last_used_at at most once a minute', async () => {
    const w = await seedWorkspace(s, 'ONLINE');
    const lastUsed = async () =>
      (await s.db.prisma.$queryRaw<{ t: Date | null }[]>`
        SELECT last_used_at AS t FROM workspace_auth_tokens WHERE workspace_id = ${w.id}::uuid`)[0]!.t;
    expect(await lastUsed()).toBeNull();
    await agentCall(s, '/registry/heartbeat', { body: heartbeatBody(w.id), token: w.token });
    const first = await lastUsed();
    expect(first).not.toBeNull();
    await agentCall(s, '/registry/heartbeat', { body: heartbeatBody(w.id), token: w.token });
    expect((await lastUsed())!.getTime()).toBe(first!.getTime());
  });
});
