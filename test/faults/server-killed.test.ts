// Problem 1 of issue 11: a server killed (kill -9) in the middle of a restart storm, started again with
// another random instance id. The dead instance's claims are stale at once (its database sessions
// died with it), so the new instance takes them over within seconds instead of leaving the
// workspaces PROVISIONING until the provision timeout. Embedded mode, one process, converges after its
// own crash and restart too. Agents reach the server at a fixed PLATFORM_URL, as behind a load balancer.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/database.js';
import { DOCKER_HOST, dockerAvailable, ensureAgentImage, rawDocker, spawnServer, type ChildServer } from '../support/docker-e2e.js';
import { assertConverged, deploymentIdOf, embeddedSql, onlineVia, removeDeployment, sqlOn, until, type Sql } from './support/convergence.js';
import { FAULT_ENV, createWorkspaces, freePort, restartStorm } from './support/workload.js';
import { expectRestartHistory } from './support/history.js';

const WORKSPACES = 10;
const RESTARTS = 3;

describe.skipIf(!dockerAvailable && !process.env.CI)('a server killed in the middle of a restart storm', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    await ensureAgentImage();
  }, 120_000);
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  /**
   * The scenario, against a server database (`liveSql` reads it at any time) or an embedded one (read
   * by `stoppedSql` only while no server holds it).
   */
  async function killMidStorm(env: Record<string, string>, db: { liveSql?: Sql; stoppedSql?: () => Promise<Sql> }): Promise<void> {
    const withSql = async <T>(fn: (sql: Sql) => Promise<T>): Promise<T> => {
      const sql = db.liveSql ?? (await db.stoppedSql!());
      try {
        return await fn(sql);
      } finally {
        if (!db.liveSql) await sql.close();
      }
    };
    const first: ChildServer = await spawnServer(env);
    cleanups.push(() => first.kill('SIGKILL'));
    const deploymentId: string = (await first.gql('{ platform { deploymentId } }')).data.platform.deploymentId;
    cleanups.push(() => removeDeployment(rawDocker, deploymentId));
    const ids = await createWorkspaces(first.gql, WORKSPACES, 'kill storm');
    await onlineVia(first.gql, ids, Date.now(), 90_000);

    const cursor: string = (await first.gql('{ eventCursor }')).data.eventCursor;
    const accepted = await restartStorm(first.gql, ids, RESTARTS);
    await new Promise((r) => setTimeout(r, 250));
    await first.kill('SIGKILL');
    const killedAt = Date.now();
    // The kill must have interrupted something, or this test proves nothing.
    const unfinished = await withSql((sql) =>
      sql.rows<{ id: string }>(`SELECT id::text FROM workspaces WHERE id = ANY($1::uuid[]) AND status = 'PROVISIONING'`, [ids]),
    );
    expect(unfinished.length, 'workspaces the kill left PROVISIONING').toBeGreaterThan(0);

    const second = await spawnServer(env);
    const upAt = Date.now();
    cleanups.push(() => second.kill());
    const tookMs = await onlineVia(second.gql, ids, killedAt, 60_000);
    const afterUpMs = tookMs - (upAt - killedAt);
    if (!db.liveSql) await second.kill(); // its database can only be read once it is closed
    await withSql(async (sql) => {
      expect(await deploymentIdOf(sql)).toBe(deploymentId);
      await until(async () => (await assertConverged({ sql, docker: rawDocker, deploymentId, ids }), true), 15_000, 'full convergence');
      for (const id of ids) await expectRestartHistory(sql, id, cursor, accepted.get(id)!);
    });
    console.log(
      `[faults] ${db.liveSql ? 'server' : 'embedded'}: kill -9 mid-storm (${unfinished.length}/${WORKSPACES} unfinished) → all ONLINE ${tookMs} ms after the kill, ${afterUpMs} ms after the new instance listened`,
    );
    // The claims were stale from the kill on; the new instance takes them over at once (well within
    // the 10 s API.md allows), and the rest is provisioning. Its own start-up time is the machine's.
    expect(afterUpMs).toBeLessThan(20_000);
    await second.kill();
  }

  it("takes over the dead instance's claims and converges (PostgreSQL server, random instance ids)", async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const port = await freePort();
    await killMidStorm(
      {
        ...FAULT_ENV,
        DATABASE_URL: database.url!,
        SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        ...(DOCKER_HOST ? { DOCKER_HOST } : {}),
        PORT: String(port),
        PLATFORM_URL: `http://127.0.0.1:${port}`,
      },
      { liveSql: sqlOn(database.url!) },
    );
  });

  it('converges after its own crash and restart in embedded mode', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'faults-embedded-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    await killMidStorm(
      { ...FAULT_ENV, DATA_DIR: dataDir, ...(DOCKER_HOST ? { DOCKER_HOST } : {}), PORT: String(port), PLATFORM_URL: `http://127.0.0.1:${port}` },
      { stoppedSql: () => embeddedSql(dataDir) },
    );
  });
});
