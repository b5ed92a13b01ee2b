// The orphan sweeper's passes against the in-memory runtime and a real (embedded) database: what is
// reaped, in which order, what is left alone, and that the passes are independent of each other.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOrphanSweeper, type OrphanSweeperOptions } from '../../services/reconcilers/orphan-sweeper.js';
import { PartsFailed, TickSkipped } from '../../services/reconcilers/loop.js';
import { createFakeRuntime, type FakeRuntime } from '../../services/runtime/fake.js';
import { createNoneRuntime } from '../../services/runtime/none.js';
import { LABEL_DEPLOYMENT, LABEL_GENERATION, LABEL_MANAGED, LABEL_WORKSPACE_ID, type ContainerRuntime } from '../../services/runtime/types.js';
import { eventsFor, insertToken, insertWorkspace, liveTokens, openTestDb, prefixOf, testLog, type ReconcilerTestDb } from '../support/reconcilers.js';

const STALE = 400;
const DEPLOYMENT = randomUUID();
const OTHER_DEPLOYMENT = randomUUID();
const labelsFor = (id: string, deployment: string | null = DEPLOYMENT) => ({
  [LABEL_MANAGED]: 'true',
  ...(deployment ? { [LABEL_DEPLOYMENT]: deployment } : {}),
  [LABEL_WORKSPACE_ID]: id,
  [LABEL_GENERATION]: '1',
});

async function addContainer(fake: FakeRuntime, name: string, labels: Record<string, string>, volume = `${name}-configs`) {
  const { [LABEL_GENERATION]: _generation, ...volumeLabels } = LABEL_MANAGED in labels ? labels : ({} as Record<string, string>);
  const { id } = await fake.create({
    name,
    image: 'agent',
    env: {},
    labels,
    configVolume: volume,
    volumeLabels,
    memoryBytes: 0,
    cpus: 0,
    readOnlyRoot: false,
    network: 'none',
  });
  await fake.start(id);
  return id;
}

const wsName = (id: string) => `ws-${prefixOf(id)}`;
const ctx = () => ({ signal: new AbortController().signal, leaderSince: new Date(0) });

describe('orphan sweeper', () => {
  let t: ReconcilerTestDb;
  let fake: FakeRuntime;
  const sweeper = (o: Partial<OrphanSweeperOptions> = {}, runtime: ContainerRuntime = fake) =>
    createOrphanSweeper({ db: t.db, runtime, log: testLog, staleTokenGraceS: 300, intervalMs: 60_000, deploymentId: DEPLOYMENT, ...o });
  const ran = (name: string) => t.statements.filter((s) => s === name).length;

  beforeAll(async () => {
    t = await openTestDb();
  });
  afterAll(async () => {
    await t?.stop();
  });
  beforeEach(async () => {
    await t.db.prisma.$executeRaw`/* testReset */ TRUNCATE workspaces, workspace_auth_tokens, workspace_events CASCADE`;
    fake = createFakeRuntime();
    t.statements.length = 0;
  });

  it("force-removes a REMOVED workspace's container, running or not, then its volume, and leaves live ones", async () => {
    const removed = await insertWorkspace(t.db, { status: 'REMOVED' });
    const stopped = await insertWorkspace(t.db, { status: 'REMOVED' });
    const online = await insertWorkspace(t.db, { status: 'ONLINE' });
    await addContainer(fake, wsName(removed), labelsFor(removed));
    await fake.stop(await addContainer(fake, wsName(stopped), labelsFor(stopped)));
    const keep = await addContainer(fake, wsName(online), labelsFor(online));
    fake.calls.length = 0;

    const report = await sweeper().cycle();
    expect(report['removed-rows']).toEqual({ status: 'done', acted: 2 });
    expect([...fake.containers.keys()]).toEqual([keep]);
    expect([...fake.volumes.keys()]).toEqual([`${wsName(online)}-configs`]);
    const order = fake.calls.filter((c) => c.method === 'remove' || c.method === 'removeVolume').map((c) => c.method);
    expect(order).toEqual(['remove', 'removeVolume', 'remove', 'removeVolume']);
    expect(fake.calls.find((c) => c.method === 'remove')!.args[1]).toEqual({ force: true });
  });

  it("reaps an unlabeled ws- container by its name prefix when the workspace is REMOVED", async () => {
    const removed = await insertWorkspace(t.db, { status: 'REMOVED' });
    await addContainer(fake, wsName(removed), {});
    expect((await sweeper().cycle())['removed-rows']).toEqual({ status: 'done', acted: 1 });
    expect(fake.containers.size).toBe(0);
  });

  it('reaps labeled containers whose workspace has no row, and keeps those with a row of any status', async () => {
    const ghost = randomUUID();
    const paused = await insertWorkspace(t.db, { status: 'PAUSED' });
    await addContainer(fake, wsName(ghost), labelsFor(ghost));
    await addContainer(fake, 'custom-name', labelsFor(randomUUID()));
    const keep = await addContainer(fake, wsName(paused), labelsFor(paused));
    const report = await sweeper().cycle();
    expect(report['no-row']).toEqual({ status: 'done', acted: 2 });
    expect([...fake.containers.keys()]).toEqual([keep]);
    expect(fake.volumes.has(`${wsName(ghost)}-configs`)).toBe(false);
  });

  it("reaps this deployment's managed container that no workspace row can match, whatever its name (ws-01da76f1d131)", async () => {
    const noIdLabel = { [LABEL_MANAGED]: 'true', [LABEL_DEPLOYMENT]: DEPLOYMENT };
    await addContainer(fake, 'ws-01da76f1d131', noIdLabel);
    await addContainer(fake, 'ws-bad-id-label', { ...noIdLabel, [LABEL_WORKSPACE_ID]: 'not-a-uuid' });
    const report = await sweeper().cycle();
    expect(report['no-row']).toEqual({ status: 'done', acted: 2 });
    expect(fake.containers.size).toBe(0);
  });

  it("never touches another deployment's containers or volumes, with or without a row", async () => {
    const removed = await insertWorkspace(t.db, { status: 'REMOVED' });
    const ghost = randomUUID();
    const theirs = [
      await addContainer(fake, wsName(removed), labelsFor(removed, OTHER_DEPLOYMENT)),
      await addContainer(fake, wsName(ghost), labelsFor(ghost, OTHER_DEPLOYMENT)),
      await addContainer(fake, 'ws-01da76f1d131', { [LABEL_MANAGED]: 'true', [LABEL_DEPLOYMENT]: OTHER_DEPLOYMENT }),
    ];
    const orphanVolume = `${wsName(randomUUID())}-configs`;
    fake.volumes.set(orphanVolume, { name: orphanVolume, labels: { [LABEL_MANAGED]: 'true', [LABEL_DEPLOYMENT]: OTHER_DEPLOYMENT }, files: new Map() });
    const report = await sweeper().cycle();
    expect(report['removed-rows']).toEqual({ status: 'done', acted: 0 });
    expect(report['no-row']).toEqual({ status: 'done', acted: 0 });
    expect(report['orphan-volumes']).toEqual({ status: 'done', acted: 0 });
    expect([...fake.containers.keys()].sort()).toEqual(theirs.sort());
    expect(fake.volumes.size).toBe(4);
  });

  it('keeps a managed container made before the deployment label existed when it has no row, and reaps it (with its volume) by the name rule once its row is REMOVED', async () => {
    const ghost = randomUUID();
    const legacy = await insertWorkspace(t.db, { status: 'REMOVED' });
    const kept = await addContainer(fake, wsName(ghost), labelsFor(ghost, null));
    await addContainer(fake, wsName(legacy), labelsFor(legacy, null));
    const report = await sweeper().cycle();
    expect(report['no-row']).toEqual({ status: 'done', acted: 0 });
    expect(report['removed-rows']).toEqual({ status: 'done', acted: 1 });
    expect([...fake.containers.keys()]).toEqual([kept]);
    expect([...fake.volumes.keys()]).toEqual([`${wsName(ghost)}-configs`]);
  });

  it("when reaping, removes the workspace's volume but never one of another deployment by the same name", async () => {
    const removed = await insertWorkspace(t.db, { status: 'REMOVED' });
    await addContainer(fake, wsName(removed), labelsFor(removed));
    fake.volumes.get(`${wsName(removed)}-configs`)!.labels = labelsFor(removed, OTHER_DEPLOYMENT);
    expect((await sweeper().cycle())['removed-rows']).toEqual({ status: 'done', acted: 1 });
    expect(fake.containers.size).toBe(0);
    expect(fake.volumes.has(`${wsName(removed)}-configs`)).toBe(true);
  });

  it('leaves a ws- container with neither label nor row alone', async () => {
    const id = await addContainer(fake, 'ws-0123abcd-456', {});
    const report = await sweeper().cycle();
    expect(report['removed-rows']).toEqual({ status: 'done', acted: 0 });
    expect(report['no-row']).toEqual({ status: 'done', acted: 0 });
    expect(fake.containers.has(id)).toBe(true);
  });

  it('never lets names with %, _, upper case or non-hex characters reach SQL', async () => {
    for (const name of ['ws-%', 'ws-_', 'ws-%%%%%%%%-%%%', 'ws-________-___', 'ws-ABCDEF12-345', 'ws-zzzzzzzz-zzz', 'ws-0123abcd-4567', 'wsx-0123abcd-456']) {
      await addContainer(fake, name, {});
    }
    const report = await sweeper().cycle();
    expect(report['removed-rows']).toEqual({ status: 'done', acted: 0 });
    expect(ran('findRemovedWorkspaceRefs')).toBe(0);
    expect(fake.containers.size).toBe(8);
  });

  it('removes labeled config volumes without a container whose workspace is REMOVED or absent', async () => {
    const removed = await insertWorkspace(t.db, { status: 'REMOVED' });
    const hibernated = await insertWorkspace(t.db, { status: 'HIBERNATED' });
    const ghost = randomUUID();
    const busy = randomUUID();
    for (const id of [removed, hibernated, ghost]) {
      fake.volumes.set(`${wsName(id)}-configs`, { name: `${wsName(id)}-configs`, labels: labelsFor(id), files: new Map() });
    }
    // A volume whose (unknown) workspace still has a container is left for the container's pass.
    await fake.stop(await addContainer(fake, 'elsewhere', { [LABEL_WORKSPACE_ID]: busy }, `${wsName(busy)}-configs`));
    fake.volumes.get(`${wsName(busy)}-configs`)!.labels = labelsFor(busy);
    fake.volumes.set('unlabeled', { name: `${wsName(ghost)}x`, labels: {}, files: new Map() });

    const report = await sweeper().cycle();
    expect(report['orphan-volumes']).toEqual({ status: 'done', acted: 2 });
    expect([...fake.volumes.keys()].sort()).toEqual([`${wsName(hibernated)}-configs`, `${wsName(busy)}-configs`, 'unlabeled'].sort());
  });

  it("removes a live workspace's secrets of older generations that no container uses (Swarm), and nothing else", async () => {
    const live = await insertWorkspace(t.db, { status: 'ONLINE', generation: 3 });
    await addContainer(fake, wsName(live), { ...labelsFor(live), [LABEL_GENERATION]: '3' });
    // A container of generation 2 still there: its secret is in use.
    await addContainer(fake, `${wsName(live)}-old`, { ...labelsFor(live), [LABEL_GENERATION]: '2' }, 'elsewhere');
    const secret = (generation: number, deployment: string | null = DEPLOYMENT) => {
      const name = `${wsName(live)}-token-${generation}${deployment === DEPLOYMENT ? '' : `-${deployment ?? 'unlabeled'}`}`;
      fake.volumes.set(name, { name, labels: { ...labelsFor(live, deployment), [LABEL_GENERATION]: String(generation) }, files: new Map() });
      return name;
    };
    const superseded = secret(1);
    const kept = [secret(2), secret(3), secret(1, OTHER_DEPLOYMENT), secret(1, null)];

    const report = await sweeper().cycle();
    expect(report['superseded-secrets']).toEqual({ status: 'done', acted: 1 });
    expect(report['orphan-volumes']).toEqual({ status: 'done', acted: 0 });
    expect(fake.volumes.has(superseded)).toBe(false);
    for (const name of kept) expect(fake.volumes.has(name)).toBe(true);
    // Nothing left that could qualify: the next cycle runs no statement for this pass.
    expect((await sweeper().cycle())['superseded-secrets']).toEqual({ status: 'done', acted: 0 });
    expect(ran('findSupersededGenerations')).toBe(1);
  });

  it('revokes stale tokens of workspaces without a container, with a TOKEN_REVOKED event each', async () => {
    const offline = await insertWorkspace(t.db, { status: 'OFFLINE' });
    const online = await insertWorkspace(t.db, { status: 'ONLINE' });
    const stale = await insertToken(t.db, offline, { createdAgoS: STALE });
    const fresh = await insertToken(t.db, offline, { createdAgoS: 1 });
    const kept = await insertToken(t.db, online, { createdAgoS: STALE });
    await addContainer(fake, wsName(online), labelsFor(online));

    const report = await sweeper().cycle();
    expect(report['stale-tokens']).toEqual({ status: 'done', acted: 1 });
    expect(await liveTokens(t.db, offline)).toEqual([fresh]);
    expect(await liveTokens(t.db, online)).toEqual([kept]);
    const events = await eventsFor(t.db, offline);
    expect(events).toEqual([
      expect.objectContaining({ type: 'TOKEN_REVOKED', payload: { tokenId: stale, prefix: stale.slice(0, 8), source: 'stale-token-sweep' } }),
    ]);
  });

  it('treats an empty container list as "no containers": that is the case the pass exists for', async () => {
    const failed = await insertWorkspace(t.db, { status: 'FAILED' });
    await insertToken(t.db, failed, { createdAgoS: STALE });
    expect((await sweeper().cycle())['stale-tokens']).toEqual({ status: 'done', acted: 1 });
    expect(ran('revokeStaleTokens')).toBe(1);
  });

  it('runs no stale-token query when a container listing fails, and the other passes still run', async () => {
    const failed = await insertWorkspace(t.db, { status: 'FAILED' });
    await insertToken(t.db, failed, { createdAgoS: STALE });
    await addContainer(fake, wsName(randomUUID()), labelsFor(randomUUID()));
    fake.failNext('list');
    const report = await sweeper().cycle();
    expect(report['stale-tokens'].status).toBe('failed');
    expect(report['no-row'].status).toBe('failed');
    expect(report['removed-rows']).toEqual({ status: 'done', acted: 0 });
    expect(ran('revokeStaleTokens')).toBe(0);
    expect(await liveTokens(t.db, failed)).toHaveLength(1);
    // The ws- listing succeeded, so the removed-rows pass asked the database.
    expect(ran('findRemovedWorkspaceRefs')).toBe(1);
  });

  it('does not run at all without a container runtime, and runs no query', async () => {
    const failed = await insertWorkspace(t.db, { status: 'FAILED' });
    await insertToken(t.db, failed, { createdAgoS: STALE });
    t.statements.length = 0;
    const s = sweeper({}, createNoneRuntime());
    await expect(s.tick(ctx())).rejects.toBeInstanceOf(TickSkipped);
    expect((await s.cycle())['stale-tokens']).toEqual({ status: 'skipped', reason: 'no container runtime configured' });
    expect(t.statements).toEqual([]);
  });

  it('skips the tick when the runtime is unreachable, without a query', async () => {
    const failed = await insertWorkspace(t.db, { status: 'FAILED' });
    await insertToken(t.db, failed, { createdAgoS: STALE });
    t.statements.length = 0;
    fake.setAvailable(false);
    await expect(sweeper().tick(ctx())).rejects.toBeInstanceOf(TickSkipped);
    expect(t.statements).toEqual([]);
  });

  it('keeps the volume when the container removal fails and goes on with the next', async () => {
    const a = await insertWorkspace(t.db, { status: 'REMOVED' });
    const b = await insertWorkspace(t.db, { status: 'REMOVED' });
    await addContainer(fake, wsName(a), labelsFor(a));
    await addContainer(fake, wsName(b), labelsFor(b));
    fake.failNext('remove', new Error('daemon said no'));
    expect((await sweeper().cycle())['removed-rows']).toEqual({ status: 'done', acted: 1 });
    expect(fake.containers.size).toBe(1);
    expect(fake.volumes.size).toBe(1);
    const left = [...fake.containers.values()][0]!;
    expect(fake.volumes.has(left.spec.configVolume)).toBe(true);
  });

  it('goes on after a volume removal error', async () => {
    const a = await insertWorkspace(t.db, { status: 'REMOVED' });
    const b = await insertWorkspace(t.db, { status: 'REMOVED' });
    await addContainer(fake, wsName(a), labelsFor(a));
    await addContainer(fake, wsName(b), labelsFor(b));
    fake.failNext('removeVolume', new Error('busy'));
    expect((await sweeper().cycle())['removed-rows']).toEqual({ status: 'done', acted: 2 });
    expect(fake.containers.size).toBe(0);
    expect(fake.volumes.size).toBe(1);
  });

  it('reports a failed pass after running every other one', async () => {
    const failed = await insertWorkspace(t.db, { status: 'FAILED' });
    await insertToken(t.db, failed, { createdAgoS: STALE });
    fake.failNext('listVolumes', new Error('volume API broken'));
    const err = await sweeper().tick(ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartsFailed);
    // Both passes that need the volume listing fail with it; the others run.
    expect(Object.keys((err as PartsFailed).failures)).toEqual(['orphan-volumes', 'superseded-secrets']);
    expect(await liveTokens(t.db, failed)).toEqual([]);
  });

  it('stops starting passes once the cycle deadline has passed', async () => {
    const slow: ContainerRuntime = {
      ...fake,
      listByNamePrefix: async (p) => {
        await new Promise((r) => setTimeout(r, 120));
        return fake.listByNamePrefix(p);
      },
    };
    const report = await sweeper({ deadlineMs: 60 }, slow).cycle();
    expect(report['removed-rows'].status).toBe('done');
    expect(report['no-row']).toEqual({ status: 'skipped', reason: 'cycle deadline passed' });
    expect(report['stale-tokens']).toEqual({ status: 'skipped', reason: 'cycle deadline passed' });
  });
});
