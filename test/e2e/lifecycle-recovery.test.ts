// Recovery on a real Docker daemon: a server killed in the middle of provisioning has the next start
// finish the job, and a server started while no daemon answers keeps running (FAILED workspaces,
// RuntimeUnavailableError) and, once its background probe finds the daemon that appeared, provisions
// the FAILED workspace again by itself and accepts restarts, with no server restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_GENERATION, LABEL_WORKSPACE_ID } from '../../services/runtime/types.js';
import { createDockerProxy, type DockerProxy } from '../support/docker-proxy.js';
import {
  DOCKER_HOST,
  dockerAvailable,
  ensureAgentImage,
  openE2eDatabase,
  rawDocker,
  removeDockerResources,
  spawnServer,
  type ChildServer,
  type E2eDatabase,
} from '../support/docker-e2e.js';
import pg from 'pg';
import { CREATE, RESTART, eventually } from '../support/lifecycle-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const STATUS = `query($id: ID!) { workspace(id: $id) { status lastSampleError } }`;

describe.skipIf(!dockerAvailable && !process.env.CI)('lifecycle recovery on Docker', () => {
  let e2e: E2eDatabase;
  const created: string[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    await ensureAgentImage();
    e2e = await openE2eDatabase();
  }, 120_000);

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await removeDockerResources(created).catch(() => {});
    await e2e?.close();
  });

  /** One value from the file's database, read the way an operator would. */
  async function sql(text: string, params: unknown[]): Promise<unknown> {
    const c = new pg.Client({ connectionString: e2e.db.url });
    await c.connect();
    try {
      return (await c.query(text, params)).rows[0]?.v;
    } finally {
      await c.end();
    }
  }

  const containersOf = (id: string) => rawDocker.listContainers({ all: true, filters: { label: [`${LABEL_WORKSPACE_ID}=${id}`] } });

  it('finishes provisioning at the next start when the server is killed between creating and starting the container', async () => {
    const proxy = createDockerProxy(DOCKER_HOST);
    await proxy.listen();
    cleanups.push(() => proxy.close());
    const env = { ...e2e.env, DOCKER_HOST: proxy.dockerHost, INSTANCE_ID: 'recovery-test-instance' };

    const first: ChildServer = await spawnServer(env);
    cleanups.push(() => first.kill('SIGKILL'));
    const atStart = proxy.holdNext((method, url) => method === 'POST' && /\/containers\/[0-9a-f]{64}\/start$/.test(url));
    const r = await first.gql(CREATE, { input: { name: 'killed mid-provisioning' } });
    const id: string = r.data.createWorkspace.workspace.id;
    created.push(id);
    const held = await atStart;
    await first.kill('SIGKILL');
    held.drop();

    const [leftover] = await containersOf(id);
    expect(leftover?.State).toBe('created');
    expect(await sql(`SELECT status::text AS v FROM workspaces WHERE id = $1`, [id])).toBe('PROVISIONING');

    const second = await spawnServer(env);
    cleanups.push(() => second.kill());
    await eventually(async () => ((await second.gql(STATUS, { id })).data.workspace.status === 'ONLINE' ? true : undefined), 30_000, 'ONLINE after the restart');
    const now = await containersOf(id);
    expect(now).toHaveLength(1);
    expect(now[0]!.Id).not.toBe(leftover!.Id);
    expect(now[0]!.State).toBe('running');
    expect(now[0]!.Labels[LABEL_GENERATION]).toBe('1');
    const live = await sql(`SELECT count(*)::int AS v FROM workspace_auth_tokens WHERE workspace_id = $1 AND revoked_at IS NULL`, [id]);
    expect(live).toBe(1);
  }, 120_000);

  it('runs without a reachable daemon (FAILED, RuntimeUnavailableError) and provisions once one appears, with no restart', async () => {
    const late = createDockerProxy(DOCKER_HOST);
    cleanups.push(() => late.close());
    const s: TestServer = await startTestServer({ ...e2e.env, DOCKER_HOST: late.dockerHost, HEALTH_SWEEP_INTERVAL_S: '1' });
    cleanups.push(() => s.stop());

    const r = await s.gql(CREATE, { input: { name: 'no daemon yet' } });
    const id: string = r.data.createWorkspace.workspace.id;
    created.push(id);
    expect(r.data.createWorkspace.workspace.status).toBe('PROVISIONING');
    const failed = await eventually(async () => {
      const w = (await s.gql(STATUS, { id })).data.workspace;
      return w.status === 'FAILED' ? w : undefined;
    });
    expect(failed.lastSampleError).toBe('no container runtime is reachable');
    const refused = await s.gql(RESTART, { id });
    expect(refused.data.restartWorkspace.__typename).toBe('RuntimeUnavailableError');
    expect((await s.gql('{ viewer { kind } }')).data.viewer.kind).toBe('ADMIN');

    await late.listen();
    // The runtime counts as reachable once a background probe (every HEALTH_SWEEP_INTERVAL_S) answers.
    await eventually(async () => ((await s.gql('{ platform { runtimeReachable } }')).data.platform.runtimeReachable ? true : undefined), 10_000, 'the runtime reachable');
    await eventually(async () => ((await s.gql(STATUS, { id })).data.workspace.status === 'ONLINE' ? true : undefined), 30_000, 'ONLINE by itself');
    const accepted = await s.gql(RESTART, { id });
    expect(accepted.data.restartWorkspace.__typename).toBe('RestartWorkspaceSuccess');
    await eventually(async () => ((await s.gql(STATUS, { id })).data.workspace.status === 'ONLINE' ? true : undefined), 30_000, 'ONLINE');
    expect((await containersOf(id)).map((c) => c.State)).toEqual(['running']);
  }, 90_000);
});
