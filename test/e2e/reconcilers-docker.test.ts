// The reconcilers against a real Docker daemon with the reference agent: the orphan sweeper reaps
// what the database no longer knows or has removed; a container death seen only through the event
// stream leads to OFFLINE and an automatic restart; the stream survives a daemon restart; an agent
// that exits at once ends FAILED at the crash-loop limit; pause/resume and restart cycles with a
// 2-second token grace and a 1-second sweep always end ONLINE.
//
// The daemon is the test's own (test/support/private-dockerd.ts): an orphan sweeper would rightly reap
// other test files' containers on the shared daemon, and a daemon restart must be real.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { LABEL_DEPLOYMENT, LABEL_GENERATION, LABEL_MANAGED, LABEL_WORKSPACE_ID, configVolumeFor, containerNameFor } from '../../services/runtime/types.js';
import { AGENT_IMAGE, DOCKER_HOST, dockerAvailable, ensureAgentImage } from '../support/docker-e2e.js';
import { PAUSE, RESTART, RESUME, eventsOf, eventually, lastEventId } from '../support/lifecycle-fixtures.js';
import { startPrivateDockerd, type PrivateDockerd } from '../support/private-dockerd.js';
import { startTestServer, type TestServer } from '../support/server.js';

const CREATE = `mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) {
  __typename ... on CreateWorkspaceSuccess { workspace { id status } } ... on Error { message } } }`;
const QUIET = '3600';

describe.skipIf(!dockerAvailable && !process.env.CI)('reconcilers on a real Docker daemon', { timeout: 120_000 }, () => {
  let dockerd: PrivateDockerd;

  beforeAll(async () => {
    await ensureAgentImage();
    dockerd = await startPrivateDockerd(AGENT_IMAGE, DOCKER_HOST);
  }, 180_000);
  afterAll(async () => {
    await dockerd?.dispose();
  });

  const serverOn = (env: Record<string, string>) =>
    startTestServer({ CONTAINER_RUNTIME: 'docker', DOCKER_HOST: dockerd.dockerHost, DOCKER_NETWORK: 'host', HEARTBEAT_INTERVAL_S: '1', ...env });

  async function create(s: TestServer, input: Record<string, unknown> = {}): Promise<string> {
    const r = await s.gql(CREATE, { input: { name: 'reconciler e2e', ...input } });
    if (r.data?.createWorkspace?.__typename !== 'CreateWorkspaceSuccess') throw new Error(JSON.stringify(r));
    return r.data.createWorkspace.workspace.id as string;
  }
  const status = async (s: TestServer, id: string) =>
    (await s.gql(`query($id: ID!) { workspace(id: $id) { status } }`, { id })).data.workspace.status as string;
  const reach = (s: TestServer, id: string, want: string, ms = 60_000) =>
    eventually(async () => ((await status(s, id)) === want ? true : undefined), ms, `${id} to be ${want}`);
  const containerExists = (name: string) => dockerd.containerExists(name);
  const volumeExists = (name: string) => dockerd.volumeExists(name);
  const containersOf = (id: string) => dockerd.api.listContainers({ all: true, filters: { label: [`${LABEL_WORKSPACE_ID}=${id}`] } });

  /** A container made behind the server's back, sleeping, with its config volume. */
  async function plantContainer(name: string, labels: Record<string, string>): Promise<void> {
    const volume = `${name}-configs`;
    const { [LABEL_GENERATION]: _generation, ...volumeLabels } = labels;
    await dockerd.api.createVolume({ Name: volume, Labels: volumeLabels });
    const c = await dockerd.api.createContainer({
      name,
      Image: AGENT_IMAGE,
      Entrypoint: ['/bin/sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
      Labels: labels,
      HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: volume, Target: '/configs' }] },
    });
    await c.start();
  }

  describe('orphan sweeper', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await serverOn({ ORPHAN_SWEEP_INTERVAL_S: '1', HEALTH_SWEEP_INTERVAL_S: QUIET });
    }, 60_000);
    afterAll(async () => {
      await s?.stop();
      await dockerd.wipe();
    });

    it('reaps a labeled ws- container whose workspace has no row, then its volume', async () => {
      const ghost = randomUUID();
      const name = containerNameFor(ghost);
      const deployment = s.services.deps.deploymentId;
      await plantContainer(name, { [LABEL_MANAGED]: 'true', [LABEL_DEPLOYMENT]: deployment, [LABEL_WORKSPACE_ID]: ghost, [LABEL_GENERATION]: '1' });
      expect(await containerExists(name)).toBe(true);
      await eventually(async () => (!(await containerExists(name)) ? true : undefined), 15_000, 'the container to be reaped');
      await eventually(async () => (!(await volumeExists(configVolumeFor(ghost))) ? true : undefined), 15_000, 'the volume to be reaped');
    });

    it("reaps a REMOVED workspace's leftover container and volume, and leaves a ws- container with neither label nor row alone", async () => {
      const id = await create(s);
      await reach(s, id, 'ONLINE');
      // A delete whose container cleanup never happened (the daemon hiccuped): the row says REMOVED.
      await s.db.prisma.$executeRaw`/* testMissedCleanup */ UPDATE workspaces SET status = 'REMOVED', removed_at = now() WHERE id = ${id}::uuid`;
      // And an unlabeled container of an older server, named after a REMOVED workspace.
      const old = await create(s, { runtime: 'external' });
      await s.db.prisma.$executeRaw`/* testRemoved */ UPDATE workspaces SET status = 'REMOVED' WHERE id = ${old}::uuid`;
      await plantContainer(containerNameFor(old), {});
      const stranger = `ws-${randomUUID().slice(0, 12)}`;
      await plantContainer(stranger, {});

      await eventually(async () => ((await containersOf(id)).length === 0 ? true : undefined), 20_000, 'the leftover container to be reaped');
      await eventually(async () => (!(await volumeExists(configVolumeFor(id))) ? true : undefined), 15_000, 'its volume to be reaped');
      await eventually(async () => (!(await containerExists(containerNameFor(old))) ? true : undefined), 15_000, 'the unlabeled leftover to be reaped');
      // Several more sweeps: the stranger stays.
      const ticks = async () =>
        (await s.db.prisma.$queryRaw<{ n: number }[]>`/* testTicks */ SELECT items_acted AS n FROM reconciler_ticks WHERE loop_name = 'orphan-sweeper'`).length;
      expect(await ticks()).toBe(1);
      await new Promise((r) => setTimeout(r, 3_000));
      expect(await containerExists(stranger)).toBe(true);
      expect(await volumeExists(`${stranger}-configs`)).toBe(true);
    });
  });

  describe('health: the event stream', () => {
    let s: TestServer;
    beforeAll(async () => {
      // The periodic sweep is an hour away: only the event stream (and its reconnect) can notice.
      s = await serverOn({ HEALTH_SWEEP_INTERVAL_S: QUIET, ORPHAN_SWEEP_INTERVAL_S: QUIET });
    }, 60_000);
    afterAll(async () => {
      await s?.stop();
      await dockerd.wipe();
    });

    async function killAndExpectComeback(id: string, sources: string[], kill: () => Promise<void>) {
      const before = await lastEventId(s);
      const [old] = await containersOf(id);
      await kill();
      const events = await eventually(async () => {
        const es = await eventsOf(s, id, before);
        return es.some((e) => e.type === 'WORKSPACE_ONLINE') ? es : undefined;
      }, 60_000, 'OFFLINE, a restart, and ONLINE again');
      const types = events.filter((e) => e.status).map((e) => `${e.type}:${String(e.payload.source ?? '')}`);
      expect(sources.map((src) => `WORKSPACE_OFFLINE:${src}`)).toContain(types[0]);
      expect(types).toContain('WORKSPACE_PROVISIONING:auto-restart');
      expect(types[types.length - 1]).toMatch(/^WORKSPACE_ONLINE:/);
      const [fresh] = await containersOf(id);
      expect(fresh!.Id).not.toBe(old!.Id);
      expect(Number(fresh!.Labels[LABEL_GENERATION])).toBeGreaterThan(Number(old!.Labels[LABEL_GENERATION]));
    }

    it('docker rm -f of a live workspace\'s container leads to OFFLINE, an automatic restart, and ONLINE', async () => {
      const id = await create(s);
      await reach(s, id, 'ONLINE');
      await killAndExpectComeback(id, ['container-event'], async () => {
        await dockerd.api.getContainer(containerNameFor(id)).remove({ force: true });
      });
    });

    it('survives a daemon restart: the reconcile after the reconnect brings the workspace back, and the stream still reports deaths', async () => {
      const id = await create(s);
      await reach(s, id, 'ONLINE');
      const reconnects = s.services.reconcilers.health.stream.reconnects();
      // The daemon takes the container down with it. Its die event may still arrive before the stream
      // closes, or the reconcile after the reconnect finds the death; either way the restart waits for
      // the daemon to be back.
      await killAndExpectComeback(id, ['container-event', 'health-sweep'], () => dockerd.restart());
      expect(s.services.reconcilers.health.stream.reconnects()).toBeGreaterThan(reconnects);
      await reach(s, id, 'ONLINE');
      // The reconnected stream: a death only it can report.
      await killAndExpectComeback(id, ['container-event'], async () => {
        await dockerd.api.getContainer(containerNameFor(id)).remove({ force: true });
      });
    });

    it('ends an agent that exits at once FAILED at the crash-loop limit, with no container left', async () => {
      const id = await create(s, { secrets: [{ key: 'AGENT_EXIT_IMMEDIATELY', value: '1' }] });
      await reach(s, id, 'FAILED', 90_000);
      const rows = await s.db.prisma.$queryRaw<{ last_sample_error: string; restart_count: number }[]>`
        /* testCrashLoop */ SELECT last_sample_error, restart_count FROM workspaces WHERE id = ${id}::uuid`;
      expect(rows[0]!.last_sample_error).toMatch(/crash loop/);
      const events = await eventsOf(s, id);
      expect(events.filter((e) => e.type === 'WORKSPACE_PROVISIONING' && e.payload.source === 'auto-restart')).toHaveLength(5);
      expect(events.filter((e) => e.type === 'WORKSPACE_OFFLINE' && e.payload.source === 'container-event').length).toBe(6);
      await eventually(async () => ((await containersOf(id)).length === 0 ? true : undefined), 15_000, 'no container left');
      expect(await volumeExists(configVolumeFor(id))).toBe(true);
    });
  });

  describe('cycles with a 2-second token grace and a 1-second sweep', () => {
    let s: TestServer;
    const ROUNDS = 20;
    beforeAll(async () => {
      s = await serverOn({ STALE_TOKEN_GRACE_S: '2', ORPHAN_SWEEP_INTERVAL_S: '1', HEALTH_SWEEP_INTERVAL_S: '1' });
    }, 60_000);
    afterAll(async () => {
      await s?.stop();
      await dockerd.wipe();
    });

    /** ONLINE, and the provisioner that got it there finished (rounds test the sweeper, not overlapping provisioners). */
    async function settledOnline(id: string): Promise<void> {
      await reach(s, id, 'ONLINE', 30_000);
      await s.services.lifecycle.idle();
    }

    it(`pause and resume ${ROUNDS} times: always ONLINE again`, async () => {
      const id = await create(s);
      await settledOnline(id);
      for (let round = 0; round < ROUNDS; round++) {
        const p = await s.gql(PAUSE, { id });
        expect(p.data.pauseWorkspace.__typename).toBe('PauseWorkspaceSuccess');
        // Every other round stays paused past the grace, so the sweeper revokes the idle token.
        if (round % 2 === 0) await new Promise((r) => setTimeout(r, 3_000));
        const r = await s.gql(RESUME, { id });
        expect(r.data.resumeWorkspace.__typename).toBe('ResumeWorkspaceSuccess');
        await settledOnline(id);
      }
      const swept = (await eventsOf(s, id)).filter((e) => e.type === 'TOKEN_REVOKED' && e.payload.source === 'stale-token-sweep');
      expect(swept.length).toBeGreaterThanOrEqual(1);
      // Still ONLINE a few sweeps later: the live agent's token is never taken.
      await new Promise((r) => setTimeout(r, 3_000));
      expect(await status(s, id)).toBe('ONLINE');
    }, 600_000);

    it(`restart ${ROUNDS} times: always ONLINE again`, async () => {
      const id = await create(s);
      await settledOnline(id);
      for (let round = 0; round < ROUNDS; round++) {
        const r = await s.gql(RESTART, { id });
        expect(r.data.restartWorkspace.__typename).toBe('RestartWorkspaceSuccess');
        await settledOnline(id);
        if (round % 2 === 0) await new Promise((r2) => setTimeout(r2, 2_500));
      }
      await new Promise((r) => setTimeout(r, 3_000));
      expect(await status(s, id)).toBe('ONLINE');
      const events = await eventsOf(s, id);
      expect(events.filter((e) => e.type === 'TOKEN_REVOKED' && e.payload.source === 'stale-token-sweep')).toEqual([]);
    }, 600_000);
  });
});
