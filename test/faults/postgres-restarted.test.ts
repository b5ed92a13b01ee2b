// Problem 2 of issue 11: PostgreSQL restarted in the middle of a restart storm. Every in-flight
// provisioning meets 57P01 or a refused connection; none may be stranded PROVISIONING (the old code
// logged "provisioning crashed" and left the rows unclaimed until the 600 s timeout): each is retried
// with backoff under the generation guard and the storm converges soon after the database is back.
// The database is a private cluster: the shared one is never restarted.
import { describe, expect, it } from 'vitest';
import { dockerAvailable, rawDocker } from '../support/docker-e2e.js';
import { converged, eventCursor, sqlOn } from './support/convergence.js';
import { faultFixture } from './support/fixture.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { createWorkspaces, restartStorm } from './support/workload.js';
import { expectRestartHistory } from './support/history.js';

describe.skipIf(!dockerAvailable && !process.env.CI)('PostgreSQL restarted in the middle of a restart storm', () => {
  let pg: PrivatePostgres;
  const f = faultFixture(async () => {
    pg = await startPrivatePostgres();
    f.cleanup(() => pg.dispose());
    await sqlOn(pg.url()).rows('CREATE DATABASE faults');
  });

  it('retries every interrupted provisioning and converges once the database is back', async () => {
    const { s, sql, deploymentId } = await f.server({ DATABASE_URL: pg.url('faults') });
    const ids = await createWorkspaces(s.gql, 9, 'pg restart');
    const check = { sql, docker: rawDocker, deploymentId, ids };
    await converged(check, Date.now(), 90_000);

    const cursor = await eventCursor(sql);
    const accepted = await restartStorm(s.gql, ids, 2);
    // At once: the provisioning the storm began is under way while the database goes down.
    await pg.restart();
    const backAt = Date.now();
    const tookMs = await converged(check, backAt, 60_000);
    const interrupted = s.warnings.filter((m) => m.startsWith('provisioning interrupted by a transient error')).length;
    console.log(`[faults] PostgreSQL restarted mid-storm (${interrupted} provisioning steps interrupted) → converged ${tookMs} ms after it was back`);
    expect(interrupted, `provisioning the restart interrupted (server warnings: ${s.warnings.join(' | ')})`).toBeGreaterThan(0);
    expect(tookMs).toBeLessThan(30_000);
    for (const id of ids) await expectRestartHistory(sql, id, cursor, accepted.get(id)!);
    // Nothing was reported as something else while the database was away.
    const failed = await sql.rows(`SELECT 1 FROM workspace_events WHERE workspace_id = ANY($1::uuid[]) AND id > $2::bigint AND type = 'WORKSPACE_FAILED'`, [ids, cursor]);
    expect(failed).toEqual([]);
  });
});
