// `subsystems` over real HTTP on a started server: always the five loops, in order; ticks read from the
// database; orphan-sweeper and health-sweep unhealthy without a container runtime; a lone instance
// leads everything; staff only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeRuntime } from '../../services/runtime/fake.js';
import { eventually } from '../support/lifecycle-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const QUERY = '{ subsystems { name lastTickAt healthy leader } }';
const NAMES = ['orphan-sweeper', 'health-sweep', 'liveness', 'provision-timeout', 'hibernation'];

interface Sub {
  name: string;
  lastTickAt: string | null;
  healthy: boolean;
  leader: boolean;
}

async function subsystems(s: TestServer, token?: string | null): Promise<Sub[]> {
  const r = await s.gql<{ subsystems: Sub[] }>(QUERY, {}, token);
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data.subsystems;
}

describe('subsystems without a container runtime', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ CONTAINER_RUNTIME: 'none', LIVENESS_SWEEP_INTERVAL_S: '1' });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('lists the five loops in order, led by the lone instance', async () => {
    const subs = await subsystems(s);
    expect(subs.map((x) => x.name)).toEqual(NAMES);
    expect(subs.every((x) => x.leader)).toBe(true);
  });

  it('reports orphan-sweeper and health-sweep unhealthy, the other three healthy', async () => {
    const subs = await subsystems(s);
    expect(Object.fromEntries(subs.map((x) => [x.name, x.healthy]))).toEqual({
      'orphan-sweeper': false,
      'health-sweep': false,
      liveness: true,
      'provision-timeout': true,
      hibernation: true,
    });
  });

  it('reads lastTickAt from the ticks the leader records, and moves it on with every tick', async () => {
    const first = await eventually(async () => (await subsystems(s)).find((x) => x.name === 'liveness')?.lastTickAt ?? undefined);
    await eventually(async () => {
      const now = (await subsystems(s)).find((x) => x.name === 'liveness')!.lastTickAt!;
      return Date.parse(now) > Date.parse(first) ? true : undefined;
    }, 5_000, 'a later liveness tick');
    // No runtime: the sweeper never completes a tick, and says why in the database.
    expect((await subsystems(s)).find((x) => x.name === 'orphan-sweeper')!.lastTickAt).toBeNull();
    const rows = await s.db.prisma.$queryRaw<{ last_error: string }[]>`
      /* testSweeperTick */ SELECT last_error FROM reconciler_ticks WHERE loop_name = 'orphan-sweeper'`;
    expect(rows[0]?.last_error).toBe('no container runtime configured');
  });

  it('turns unhealthy when the recorded tick is older than three intervals, whatever the leader flag says', async () => {
    // Simulates a leader that stopped ticking a while ago (liveness interval 1 s: window 3 s); the
    // "started recently" grace is over once the server has run for three intervals.
    await new Promise((r) => setTimeout(r, 3_100));
    await s.services.reconcilers.stop();
    await s.db.prisma.$executeRaw`/* testAgeTicks */ UPDATE reconciler_ticks SET last_tick_at = now() - interval '10 seconds'`;
    const liveness = (await subsystems(s)).find((x) => x.name === 'liveness')!;
    expect(liveness.healthy).toBe(false);
    expect(liveness.leader).toBe(false);
  });

  it('is for staff: anonymous is UNAUTHENTICATED, a workspace token FORBIDDEN, an org token allowed', async () => {
    const anon = await s.gql(QUERY, {}, null);
    expect(anon.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const created = await s.gql(`mutation { createWorkspace(input: { name: "ext", runtime: "external" }) { ... on CreateWorkspaceSuccess { token } } }`);
    const wsToken = created.data.createWorkspace.token as string;
    const forbidden = await s.gql(QUERY, {}, wsToken);
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(forbidden.data).toBeNull();
    const org = await s.gql(`mutation { createOrgToken(name: "ops") { ... on CreateOrgTokenSuccess { token } } }`);
    expect((await subsystems(s, org.data.createOrgToken.token as string)).map((x) => x.name)).toEqual(NAMES);
  });
});

describe('subsystems with a reachable container runtime', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({}, { runtime: createFakeRuntime() });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('reports every loop healthy, each with a recorded tick', async () => {
    const subs = await eventually(async () => {
      const all = await subsystems(s);
      return all.every((x) => x.lastTickAt) ? all : undefined;
    }, 10_000, 'a tick of every loop');
    expect(subs.map((x) => [x.name, x.healthy, x.leader])).toEqual(NAMES.map((n) => [n, true, true]));
  });
});
