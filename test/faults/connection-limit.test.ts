// Problems 3 and 7 of issue 11, on a role limited to 6 connections (a unique role on the shared
// server, dropped afterwards). With the default pool of 20, part of the pool cannot connect ("too many
// connections", 53300): such a request must answer the outage (HTTP 503, SERVICE_UNAVAILABLE), never
// the masked "Unexpected error.", and provisioning that meets it must be retried, never turned into
// "failed to decrypt workspace secrets". With DATABASE_POOL_MAX sized to the role (6 - listener -
// leadership = 4), the same burst is simply queued and every request succeeds.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverBaseUrl } from '../support/database.js';
import { dockerAvailable, ensureAgentImage, rawDocker } from '../support/docker-e2e.js';
import { converged, deploymentIdOf, eventCursor, removeDeployment, sqlOn, until } from './support/convergence.js';
import { startFaultServer, type FaultServer } from './support/servers.js';
import { createWorkspaces, isOutageAnswer, restartStorm, retryingOutages } from './support/workload.js';
import { expectRestartHistory } from './support/history.js';

const LIMIT = 6;
const BURST = 100;
const LIST = `{ workspaces(first: 50) { edges { node { id status tokens { id } secretKeys } } } }`;

describe.skipIf(!dockerAvailable && !process.env.CI)('a database role with a connection limit', () => {
  const suffix = randomBytes(4).toString('hex');
  const role = `ws_fault_role_${suffix}`;
  const dbName = `ws_fault_limit_${suffix}`;
  const admin = sqlOn(serverBaseUrl());
  const sql = sqlOn(new URL(`/${dbName}`, serverBaseUrl()).toString());
  const url = (() => {
    const u = new URL(serverBaseUrl());
    u.username = role;
    u.pathname = `/${dbName}`;
    return u.toString();
  })();
  let s: FaultServer | undefined;
  let deploymentId: string | undefined;
  const env = { DATABASE_URL: url, SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64') };

  beforeAll(async () => {
    await ensureAgentImage();
    await admin.rows(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT ${LIMIT}`);
    await admin.rows(`CREATE DATABASE ${dbName} OWNER ${role}`);
  }, 120_000);
  afterAll(async () => {
    await s?.stop();
    if (deploymentId) await removeDeployment(rawDocker, deploymentId);
    await admin.rows(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    await admin.rows(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
  });

  /** 100 concurrent list queries: how many succeeded, answered the outage, or anything else. */
  async function burst(server: FaultServer) {
    const answers = await Promise.all(Array.from({ length: BURST }, () => server.gql(LIST)));
    const ok = answers.filter((a) => a.status === 200 && !a.errors && a.data?.workspaces);
    const outage = answers.filter(isOutageAnswer);
    const other = answers.filter((a) => !ok.includes(a) && !outage.includes(a));
    return { ok: ok.length, outage: outage.length, other, retryAfter: outage.map((a) => (a as { headers?: Headers }).headers?.get('retry-after')) };
  }

  it('answers what it cannot connect for as an outage, and provisioning retries through it (default pool of 20)', async () => {
    s = await startFaultServer(env);
    deploymentId = await deploymentIdOf(sql);
    const ids = await createWorkspaces(s.gql, 6, 'limited');
    for (const id of ids) {
      const r = await retryingOutages(() =>
        s!.gql(`mutation($id: ID!) { setWorkspaceSecret(workspaceId: $id, key: "API_KEY", value: "v") { __typename } }`, { id }),
      );
      expect(r.data.setWorkspaceSecret.__typename).toBe('SetWorkspaceSecretSuccess');
    }
    const check = { sql, docker: rawDocker, deploymentId, ids };
    await converged(check, Date.now(), 90_000);

    const cursor = await eventCursor(sql);
    // Bursts keep the pool at the role's limit while the storm's provisioning runs (3 s).
    let storming = true;
    const pressure = (async () => {
      const total = { ok: 0, outage: 0, other: [] as Array<{ errors?: unknown[]; data?: unknown }>, retryAfter: [] as Array<string | null | undefined> };
      do {
        const b = await burst(s!);
        total.ok += b.ok;
        total.outage += b.outage;
        total.other.push(...b.other);
        total.retryAfter.push(...b.retryAfter);
      } while (storming);
      return total;
    })();
    const accepted = await restartStorm(s.gql, ids, 2, false);
    await new Promise((r) => setTimeout(r, 3_000));
    storming = false;
    const during = await pressure;
    const stormEnd = Date.now();
    console.log(`[faults] role limited to ${LIMIT} connections, pool 20: bursts of ${BURST} → ${during.ok} ok, ${during.outage} outage answers, ${during.other.length} other`);
    expect(during.other.map((a) => JSON.stringify(a.errors ?? a.data).slice(0, 200))).toEqual([]);
    expect(during.outage, 'the limit must have been hit').toBeGreaterThan(0);
    expect(new Set(during.retryAfter)).toEqual(new Set(['1']));

    const tookMs = await converged(check, stormEnd, 60_000);
    const retried = s.warnings.filter((m) => m.startsWith('provisioning interrupted by a transient error')).length;
    console.log(`[faults] role limited to ${LIMIT} connections: ${retried} provisioning steps retried; converged ${tookMs} ms after the pressure ended`);
    expect(retried, 'provisioning that met the limit').toBeGreaterThan(0);
    for (const id of ids) await expectRestartHistory(sql, id, cursor, accepted.get(id)!);
    const reasons = await sql.rows(`SELECT payload->>'reason' AS reason FROM workspace_events WHERE id > $1::bigint AND payload ? 'reason'`, [cursor]);
    expect(reasons).toEqual([]);
    await s.stop();
    s = undefined;
  });

  it('queues the same burst instead of failing it once DATABASE_POOL_MAX fits the role', async () => {
    await until(
      async () => ((await admin.rows<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1`, [role]))[0]!.n === 0 ? true : undefined),
      15_000,
      'the first server to let go of its connections',
    );
    s = await startFaultServer({ ...env, DATABASE_POOL_MAX: String(LIMIT - 2) });
    // Every list query waits on a lock for half a second, so the burst needs as many connections as
    // the pool may open: with 20 it would open more than the role may have.
    const locker = new pg.Client({ connectionString: new URL(`/${dbName}`, serverBaseUrl()).toString() });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE workspaces IN ACCESS EXCLUSIVE MODE');
    const pending = burst(s);
    await new Promise((r) => setTimeout(r, 500));
    await locker.query('COMMIT');
    await locker.end();
    const result = await pending;
    console.log(`[faults] role limited to ${LIMIT} connections, pool ${LIMIT - 2}: burst of ${BURST} → ${result.ok} ok`);
    expect(result).toMatchObject({ ok: BURST, outage: 0, other: [] });
  });
});
