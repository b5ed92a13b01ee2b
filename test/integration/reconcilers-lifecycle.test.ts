// The reconcilers in a started server with the real lifecycle and provisioner over the in-memory
// runtime: a dead container leads to an automatic restart of the next generation; a container that
// keeps dying ends FAILED at the crash-loop limit with no container; a provisioning whose agent never
// registers times out FAILED; an idle workspace hibernates through the lifecycle's claim.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeRuntime, type FakeRuntime } from '../../services/runtime/fake.js';
import { LABEL_WORKSPACE_ID, containerNameFor } from '../../services/runtime/types.js';
import { createWorkspace, eventsOf, eventually, row } from '../support/lifecycle-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('reconcilers with the real lifecycle on the fake runtime', () => {
  let s: TestServer;
  let fake: FakeRuntime;
  beforeAll(async () => {
    fake = createFakeRuntime();
    s = await startTestServer(
      {
        HEALTH_SWEEP_INTERVAL_S: '1',
        PROVISION_TIMEOUT_S: '2',
        PROVISION_TIMEOUT_SWEEP_INTERVAL_S: '1',
        HIBERNATION_SWEEP_INTERVAL_S: '1',
        ORPHAN_SWEEP_INTERVAL_S: '3600',
      },
      { runtime: fake },
    );
  });
  afterAll(async () => {
    await s?.stop();
  });

  const containersOf = (id: string) => [...fake.containers.values()].filter((c) => c.spec.labels[LABEL_WORKSPACE_ID] === id);

  /** What the agent would do: register with the token the provisioner wrote. */
  async function register(id: string): Promise<void> {
    const token = fake.readFile(containerNameFor(id), '/configs/.auth_token')!.content;
    const res = await s.http('/registry/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ id, url: 'http://127.0.0.1:9/agent', agent_card: {} }),
    });
    expect(res.status).toBe(200);
  }

  async function online(): Promise<string> {
    const { id } = await createWorkspace(s);
    await s.services.lifecycle.idle();
    await register(id);
    expect((await row(s, id)).status).toBe('ONLINE');
    return id;
  }

  it('restarts a workspace whose container died, in the next generation', async () => {
    const id = await online();
    fake.exit(containerNameFor(id), 137);
    const fresh = await eventually(async () => {
      const r = await row(s, id);
      return r.status === 'PROVISIONING' && r.generation === 2 ? r : undefined;
    }, 10_000, 'an automatic restart');
    expect(fresh.restart_count).toBe(1);
    await s.services.lifecycle.idle();
    expect(containersOf(id).map((c) => c.spec.labels['molecule.workspace.generation'])).toEqual(['2']);
    const types = (await eventsOf(s, id)).filter((e) => e.status).map((e) => `${e.type}:${String(e.payload.source)}`);
    expect(types).toContain('WORKSPACE_OFFLINE:container-event');
    expect(types).toContain('WORKSPACE_PROVISIONING:auto-restart');
    await register(id);
  });

  it('ends a container that keeps dying FAILED at the crash-loop limit, with no container left', async () => {
    const id = await online();
    for (let death = 1; death <= 6; death++) {
      await s.services.lifecycle.idle();
      const name = containerNameFor(id);
      await eventually(async () => (fake.find(name)?.running ? true : undefined), 10_000, `container ${death}`);
      fake.exit(name, 1);
      await eventually(async () => {
        const r = await row(s, id);
        return r.status !== 'ONLINE' && (r.status === 'FAILED' || r.generation > death) ? true : undefined;
      }, 10_000, `reaction to death ${death}`);
    }
    const r = await eventually(async () => {
      const x = await row(s, id);
      return x.status === 'FAILED' ? x : undefined;
    }, 10_000, 'FAILED');
    expect(r.last_sample_error).toMatch(/crash loop/);
    await eventually(async () => (containersOf(id).length === 0 ? true : undefined), 10_000, 'no container left');
  });

  it('fails a provisioning whose agent never registers, naming the provision-timeout loop', async () => {
    const { id } = await createWorkspace(s);
    const r = await eventually(async () => {
      const x = await row(s, id);
      return x.status === 'FAILED' ? x : undefined;
    }, 15_000, 'the provision timeout');
    expect(r.last_sample_error).toMatch(/timed out/);
    const failed = (await eventsOf(s, id)).find((e) => e.type === 'WORKSPACE_FAILED');
    expect(failed?.payload).toMatchObject({ source: 'provision-timeout', timeoutSeconds: 2 });
    await eventually(async () => (containersOf(id).length === 0 ? true : undefined), 10_000, 'the container removed');
  });

  it('hibernates an idle workspace through the lifecycle, leaving a busy one alone', async () => {
    const idle = await online();
    const busy = await online();
    await s.db.prisma.$executeRaw`
      /* testIdle */ UPDATE workspaces SET hibernation_idle_minutes = 1, last_active_at = now() - interval '2 minutes'
       WHERE id IN (${idle}::uuid, ${busy}::uuid)`;
    await s.db.prisma.$executeRaw`/* testBusy */ UPDATE workspaces SET active_tasks = 2 WHERE id = ${busy}::uuid`;
    await eventually(async () => ((await row(s, idle)).status === 'HIBERNATED' ? true : undefined), 15_000, 'hibernation');
    expect(containersOf(idle)).toHaveLength(0);
    expect((await row(s, busy)).status).toBe('ONLINE');
    const claim = (await eventsOf(s, idle)).find((e) => e.type === 'WORKSPACE_HIBERNATING');
    expect(claim?.payload).toMatchObject({ source: 'idle' });
  });
});
