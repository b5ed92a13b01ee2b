// Problems 5 and 8 of issue 11: two deployments (two servers, each with its own database) on one Docker
// daemon. Neither may touch the other's containers or volumes, in either direction (the old sweeper
// reaped everything labeled managed that had no row in its own database). Each still reaps its own
// orphans, including a managed container labeled with its deployment that has no workspace id label
// and a name no UUID can start with (ws-01da76f1d131). A workspace made before the deployment label
// existed keeps running through the upgrade and gains the label at its next provisioning; a leftover
// of that era tied by its ws-* name to a REMOVED row is reaped with its volume.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_DEPLOYMENT, LABEL_GENERATION, LABEL_MANAGED, LABEL_WORKSPACE_ID, configVolumeFor, containerNameFor } from '../../services/runtime/types.js';
import { singleFileTar } from '../../services/runtime/docker-archive.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { AGENT_IMAGE, dockerAvailable, ensureAgentImage, rawDocker } from '../support/docker-e2e.js';
import { converged, deploymentIdOf, eventCursor, historyOf, removeDeployment, sleep, sqlOn, tokenFileOf, until, type Sql } from './support/convergence.js';
import { startFaultServer, type FaultServer } from './support/servers.js';
import { createWorkspaces } from './support/workload.js';

const exists = (p: Promise<unknown>) => p.then(() => true, () => false);
const containerExists = (name: string) => exists(rawDocker.getContainer(name).inspect());
const volumeExists = (name: string) => exists(rawDocker.getVolume(name).inspect());

/** A sleeping container made behind the servers' backs, with these labels. */
async function plant(name: string, labels: Record<string, string>): Promise<void> {
  const c = await rawDocker.createContainer({
    name,
    Image: AGENT_IMAGE,
    Entrypoint: ['/bin/sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
    Labels: labels,
    HostConfig: { NetworkMode: 'none' },
  });
  await c.start();
}

describe.skipIf(!dockerAvailable && !process.env.CI)('two deployments on one Docker daemon', () => {
  const dbs: TestDatabase[] = [];
  const servers: FaultServer[] = [];
  const deployments: string[] = [];
  const planted: string[] = [];
  const foreignDeployment = randomUUID();

  beforeAll(async () => {
    await ensureAgentImage();
    dbs.push(await createTestDatabase(), await createTestDatabase());
  }, 120_000);
  afterAll(async () => {
    for (const s of servers) await s.stop().catch(() => {});
    for (const d of [...deployments, foreignDeployment]) await removeDeployment(rawDocker, d).catch(() => {});
    for (const name of planted) {
      await rawDocker.getContainer(name).remove({ force: true }).catch(() => {});
      await rawDocker.getVolume(`${name}-configs`).remove().catch(() => {});
    }
    for (const d of dbs) await d.drop();
  });

  const env = (db: TestDatabase, key: string) => ({ DATABASE_URL: db.url!, SECRETS_ENCRYPTION_KEY: key, ORPHAN_SWEEP_INTERVAL_S: '1', HEALTH_SWEEP_INTERVAL_S: '1' });
  const sweepsSince = async (sql: Sql, since: Date) =>
    (await sql.rows(`SELECT 1 FROM reconciler_ticks WHERE loop_name = 'orphan-sweeper' AND last_tick_at > $1 AND last_error IS NULL`, [since])).length > 0;

  /** Rebuilds a workspace's container and volume as a server before the deployment label made them. */
  async function makeLegacy(id: string): Promise<void> {
    const [old] = await rawDocker.listContainers({ all: true, filters: { label: [`${LABEL_WORKSPACE_ID}=${id}`] } });
    const info = await rawDocker.getContainer(old!.Id).inspect();
    const token = await tokenFileOf(rawDocker, old!.Id);
    await rawDocker.getContainer(old!.Id).remove({ force: true });
    await rawDocker.getVolume(configVolumeFor(id)).remove();
    const { [LABEL_DEPLOYMENT]: _d, ...labels } = info.Config.Labels;
    await rawDocker.createVolume({ Name: configVolumeFor(id), Labels: { [LABEL_MANAGED]: 'true', [LABEL_WORKSPACE_ID]: id } });
    const c = await rawDocker.createContainer({
      name: containerNameFor(id),
      Image: info.Config.Image,
      Env: info.Config.Env,
      Labels: labels,
      HostConfig: { NetworkMode: 'host', RestartPolicy: { Name: 'no' }, Mounts: [{ Type: 'volume', Source: configVolumeFor(id), Target: '/configs' }] },
    });
    await c.putArchive(await singleFileTar('.auth_token', token, 0o600), { path: '/configs' });
    await c.start();
  }

  it("never touches the other deployment's resources, in either direction, and reaps its own orphans", async () => {
    const keys = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    const [sqlA, sqlB] = dbs.map((d) => sqlOn(d.url!));
    let a = await startFaultServer(env(dbs[0]!, keys[0]!));
    servers.push(a);
    const deploymentA = await deploymentIdOf(sqlA!);
    deployments.push(deploymentA);
    const idsA = await createWorkspaces(a.gql, 3, 'deployment A');
    await converged({ sql: sqlA!, docker: rawDocker, deploymentId: deploymentA, ids: idsA }, Date.now(), 90_000);

    // An upgrade: the last of A's workspaces was made before the deployment label existed.
    const legacy = idsA[2]!;
    // Without our deployment label its container and volume are not removeDeployment's to clean up.
    planted.push(containerNameFor(legacy));
    await a.stop();
    servers.splice(servers.indexOf(a), 1);
    await makeLegacy(legacy);
    // A leftover of that era, named after a workspace this database has REMOVED.
    const removed = randomUUID();
    await sqlA!.rows(`INSERT INTO workspaces (id, name, status, runtime) VALUES ($1, 'removed long ago', 'REMOVED', 'langgraph')`, [removed]);
    planted.push(containerNameFor(removed));
    await rawDocker.createVolume({ Name: configVolumeFor(removed), Labels: { [LABEL_MANAGED]: 'true', [LABEL_WORKSPACE_ID]: removed } });
    await plant(containerNameFor(removed), { [LABEL_MANAGED]: 'true', [LABEL_WORKSPACE_ID]: removed, [LABEL_GENERATION]: '1' });
    // Problem 8: ours, no workspace id label, a name no UUID can start with.
    const orphanA = `ws-${randomBytes(6).toString('hex')}`;
    planted.push(orphanA);
    await plant(orphanA, { [LABEL_MANAGED]: 'true', [LABEL_DEPLOYMENT]: deploymentA });
    // A third deployment's orphan: neither server's business.
    const foreign = containerNameFor(randomUUID());
    planted.push(foreign);
    await plant(foreign, { [LABEL_MANAGED]: 'true', [LABEL_DEPLOYMENT]: foreignDeployment, [LABEL_WORKSPACE_ID]: randomUUID(), [LABEL_GENERATION]: '1' });

    a = await startFaultServer(env(dbs[0]!, keys[0]!));
    const upgradedAt = Date.now();
    servers.push(a);
    const cursorA = await eventCursor(sqlA!);
    const b = await startFaultServer(env(dbs[1]!, keys[1]!));
    servers.push(b);
    const deploymentB = await deploymentIdOf(sqlB!);
    deployments.push(deploymentB);
    expect(deploymentB).not.toBe(deploymentA);
    expect((await b.gql('{ platform { deploymentId } }')).data.platform.deploymentId).toBe(deploymentB);
    const idsB = await createWorkspaces(b.gql, 2, 'deployment B');
    await converged({ sql: sqlB!, docker: rawDocker, deploymentId: deploymentB, ids: idsB }, Date.now(), 90_000);
    const cursorB = await eventCursor(sqlB!);

    // Several sweeps of both, each after the other's resources existed.
    const since = new Date();
    await sleep(1_500);
    await until(async () => ((await sweepsSince(sqlA!, since)) && (await sweepsSince(sqlB!, since)) ? true : undefined), 15_000, 'a sweep of each deployment');
    await until(async () => (!(await containerExists(orphanA)) && !(await containerExists(containerNameFor(removed))) ? true : undefined), 15_000, "A's orphans reaped");
    const reapedMs = Date.now() - upgradedAt;
    await sleep(2_500);

    expect(await volumeExists(configVolumeFor(removed)), "the REMOVED leftover's volume").toBe(false);
    expect(await containerExists(foreign), "a third deployment's container").toBe(true);
    // B's workspaces survived A's sweeps, and A's (the legacy one included) survived B's.
    await converged({ sql: sqlB!, docker: rawDocker, deploymentId: deploymentB, ids: idsB }, Date.now(), 10_000);
    await converged({ sql: sqlA!, docker: rawDocker, deploymentId: deploymentA, ids: idsA.slice(0, 2) }, Date.now(), 10_000).catch((err: Error) => {
      // The legacy workspace's volume has no deployment label: the check sees only the two others'.
      if (!/volumes/.test(err.message)) throw err;
    });
    const [legacyContainer] = await rawDocker.listContainers({ filters: { label: [`${LABEL_WORKSPACE_ID}=${legacy}`] } });
    expect(legacyContainer?.State).toBe('running');
    expect(legacyContainer?.Labels[LABEL_DEPLOYMENT]).toBeUndefined();
    expect(await volumeExists(configVolumeFor(legacy))).toBe(true);
    for (const id of idsA) expect(await historyOf(sqlA!, id, cursorA), id).toEqual([]);
    for (const id of idsB) expect(await historyOf(sqlB!, id, cursorB), id).toEqual([]);

    // Its next provisioning gives the legacy workspace the label (its volume keeps its data, and its labels).
    const r = await a.gql(`mutation($id: ID!) { restartWorkspace(id: $id) { __typename } }`, { id: legacy });
    expect(r.data.restartWorkspace.__typename).toBe('RestartWorkspaceSuccess');
    await until(
      async () => {
        const [c] = await rawDocker.listContainers({ filters: { label: [`${LABEL_WORKSPACE_ID}=${legacy}`, `${LABEL_DEPLOYMENT}=${deploymentA}`] } });
        const row = await sqlA!.rows<{ status: string }>(`SELECT status::text FROM workspaces WHERE id = $1`, [legacy]);
        return c && row[0]!.status === 'ONLINE' ? true : undefined;
      },
      30_000,
      'the legacy workspace ONLINE in a labeled container',
    );
    expect(await historyOf(sqlA!, legacy, cursorA).then((h) => h.filter((e) => e.status).map((e) => e.status))).toEqual(['PROVISIONING', 'ONLINE']);
    console.log(`[faults] two deployments on one daemon: ${idsA.length} + ${idsB.length} workspaces untouched by each other's sweeps; A's orphans reaped ${reapedMs} ms after its start`);
    expect(reapedMs).toBeLessThan(20_000);
  });
});
