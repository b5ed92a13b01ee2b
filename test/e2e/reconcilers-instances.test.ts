// Two server processes on one database and one (private) Docker daemon: one leader per loop, only
// the leader ticks and acts, both answer `subsystems` alike from the database, and when the leader's
// process is killed (SIGKILL: no goodbye, PostgreSQL notices the dropped connection) the other takes
// every loop over within two intervals.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { LABEL_DEPLOYMENT, LABEL_GENERATION, LABEL_MANAGED, LABEL_WORKSPACE_ID, containerNameFor } from '../../services/runtime/types.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { AGENT_IMAGE, DOCKER_HOST, dockerAvailable, ensureAgentImage, spawnServer, type ChildServer } from '../support/docker-e2e.js';
import { eventually } from '../support/lifecycle-fixtures.js';
import { startPrivateDockerd, type PrivateDockerd } from '../support/private-dockerd.js';

const LOOPS = ['orphan-sweeper', 'health-sweep', 'liveness', 'provision-timeout', 'hibernation'];
const INTERVAL_S: Record<string, number> = { 'orphan-sweeper': 2, 'health-sweep': 2, liveness: 1, 'provision-timeout': 2, hibernation: 2 };
const SUBSYSTEMS = '{ subsystems { name lastTickAt healthy leader } }';

interface Sub {
  name: string;
  lastTickAt: string | null;
  healthy: boolean;
  leader: boolean;
}

describe.skipIf(!dockerAvailable && !process.env.CI)('two server instances on one database', { timeout: 120_000 }, () => {
  let dockerd: PrivateDockerd;
  let database: TestDatabase;
  let sql: pg.Client;
  let a: ChildServer;
  let b: ChildServer;

  beforeAll(async () => {
    await ensureAgentImage();
    dockerd = await startPrivateDockerd(AGENT_IMAGE, DOCKER_HOST);
    database = await createTestDatabase();
    const env = {
      DATABASE_URL: database.url!,
      SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      CONTAINER_RUNTIME: 'docker',
      DOCKER_HOST: dockerd.dockerHost,
      DOCKER_NETWORK: 'host',
      LIVENESS_TIMEOUT_S: '2',
      LIVENESS_SWEEP_INTERVAL_S: String(INTERVAL_S.liveness),
      ORPHAN_SWEEP_INTERVAL_S: String(INTERVAL_S['orphan-sweeper']),
      HEALTH_SWEEP_INTERVAL_S: String(INTERVAL_S['health-sweep']),
      PROVISION_TIMEOUT_SWEEP_INTERVAL_S: String(INTERVAL_S['provision-timeout']),
      HIBERNATION_SWEEP_INTERVAL_S: String(INTERVAL_S.hibernation),
    };
    a = await spawnServer({ ...env, INSTANCE_ID: 'instance-a' });
    b = await spawnServer({ ...env, INSTANCE_ID: 'instance-b' });
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
  }, 180_000);

  afterAll(async () => {
    await a?.kill();
    await b?.kill();
    await sql?.end();
    await database?.drop();
    await dockerd?.dispose();
  });

  const subsystems = async (s: ChildServer): Promise<Sub[]> => {
    const r = await s.gql<{ subsystems: Sub[] }>(SUBSYSTEMS);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data.subsystems;
  };
  const metric = async (s: ChildServer, name: string, loop: string): Promise<number> => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const m = new RegExp(`^${name}\\{loop="${loop}"\\} ([0-9.e+]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  /** Waits until `s` has counted at least one item for `loop`: the counter moves when the tick ends. */
  const itemsCounted = (s: ChildServer, loop: string) =>
    eventually(async () => ((await metric(s, 'reconciler_items_total', loop)) >= 1 ? true : undefined), 10_000, `${loop} items counted`);
  const tickLeaders = async () =>
    Object.fromEntries(
      (await sql.query<{ loop_name: string; leader_instance: string }>(`SELECT loop_name, leader_instance FROM reconciler_ticks`)).rows.map((r) => [
        r.loop_name,
        r.leader_instance,
      ]),
    );
  const deploymentId = async () =>
    (await sql.query<{ id: string }>(`SELECT deployment_id::text AS id FROM platform_settings WHERE id = 1`)).rows[0]!.id;
  async function plantOrphan(): Promise<string> {
    const ghost = randomUUID();
    const c = await dockerd.api.createContainer({
      name: containerNameFor(ghost),
      Image: AGENT_IMAGE,
      Entrypoint: ['/bin/sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
      Labels: { [LABEL_MANAGED]: 'true', [LABEL_DEPLOYMENT]: await deploymentId(), [LABEL_WORKSPACE_ID]: ghost, [LABEL_GENERATION]: '1' },
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    return containerNameFor(ghost);
  }
  const gone = async (name: string) => ((await dockerd.containerExists(name)) ? undefined : true);
  async function silentWorkspace(): Promise<string> {
    const { rows } = await sql.query<{ id: string }>(
      `INSERT INTO workspaces (name, status, runtime, last_heartbeat_at, status_changed_at)
       VALUES ('silent', 'ONLINE', 'external', now() - interval '1 hour', now() - interval '1 hour') RETURNING id::text`,
    );
    return rows[0]!.id;
  }
  const offlineEvents = async (id: string) =>
    (await sql.query<{ payload: { source: string } }>(`SELECT payload FROM workspace_events WHERE workspace_id = $1 AND type = 'WORKSPACE_OFFLINE'`, [id])).rows;

  it('gives every loop exactly one leader, and both instances report the same ticks from the database', async () => {
    const [sa, sb] = [await subsystems(a), await subsystems(b)];
    for (const loop of LOOPS) {
      const leaders = [sa, sb].filter((subs) => subs.find((x) => x.name === loop)!.leader);
      expect(leaders, loop).toHaveLength(1);
    }
    expect(sa.every((x) => x.leader)).toBe(true);
    await eventually(async () => ((await subsystems(b)).every((x) => x.lastTickAt && x.healthy) ? true : undefined), 15_000, 'ticks of every loop');
    const [ta, tb] = [await subsystems(a), await subsystems(b)];
    expect(ta.map((x) => x.lastTickAt)).toEqual(tb.map((x) => x.lastTickAt));
  });

  it('lets only the leader tick and act', async () => {
    const orphan = await plantOrphan();
    const silent = await silentWorkspace();
    await eventually(() => gone(orphan), 15_000, 'the orphan to be reaped');
    await eventually(async () => ((await offlineEvents(silent)).length ? true : undefined), 15_000, 'the silent workspace to go OFFLINE');
    expect(await offlineEvents(silent)).toEqual([{ payload: expect.objectContaining({ source: 'liveness' }) }]);
    for (const loop of LOOPS) {
      expect(await metric(a, 'reconciler_ticks_total', loop), loop).toBeGreaterThan(0);
      expect(await metric(b, 'reconciler_ticks_total', loop), loop).toBe(0);
      expect(await metric(b, 'reconciler_items_total', loop), loop).toBe(0);
    }
    // The container is gone while the tick that removed it is still finishing; its count follows.
    await itemsCounted(a, 'orphan-sweeper');
    await itemsCounted(a, 'liveness');
    expect(await tickLeaders()).toMatchObject(Object.fromEntries(LOOPS.map((l) => [l, 'instance-a'])));
  });

  it('hands every loop to the other instance within two intervals when the leader is killed', async () => {
    const killedAt = Date.now();
    await a.kill('SIGKILL');
    const tookOver: Record<string, number> = {};
    await eventually(
      async () => {
        const subs = await subsystems(b);
        for (const x of subs) if (x.leader && tookOver[x.name] === undefined) tookOver[x.name] = Date.now() - killedAt;
        return Object.keys(tookOver).length === LOOPS.length ? true : undefined;
      },
      15_000,
      'the survivor to lead every loop',
    );
    for (const loop of LOOPS) expect(tookOver[loop], `${loop} took ${tookOver[loop]} ms`).toBeLessThanOrEqual(2 * INTERVAL_S[loop]! * 1000);
    // The survivor acts now: its ticks are recorded, and it reaps and watches as the leader did.
    await eventually(async () => {
      const leaders = await tickLeaders();
      return LOOPS.every((l) => leaders[l] === 'instance-b') ? true : undefined;
    }, 10_000, 'ticks recorded by the survivor');
    const orphan = await plantOrphan();
    const silent = await silentWorkspace();
    await eventually(() => gone(orphan), 15_000, 'the orphan to be reaped by the survivor');
    await eventually(async () => ((await offlineEvents(silent)).length ? true : undefined), 15_000, 'liveness on the survivor');
    await itemsCounted(b, 'orphan-sweeper');
  });
});
