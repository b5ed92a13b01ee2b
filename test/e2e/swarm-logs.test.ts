// Followed workspace logs on a real two-node swarm (.ci/start-swarm.sh). The manager never ends a
// followed service log by itself (not when the task stops, the service goes or the node dies), so the
// Swarm runtime watches the task (services/runtime/swarm-logs.ts). Each case checks that lines arrive,
// that the follower ends once (onEnd, without an error) in time, and that no log request toward the
// manager is left open: every request passes a proxy in front of the manager, which counts the
// followed ones still in flight. The node-loss case kills the worker; it comes last and boots it again.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSwarmRuntime, type SwarmRuntime } from '../../services/runtime/swarm.js';
import { LABEL_WORKSPACE_ID, type LogLine } from '../../services/runtime/types.js';
import { createDockerProxy, type DockerProxy } from '../support/docker-proxy.js';
import { eventually, PAUSE } from '../support/lifecycle-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { connectWs } from '../support/subscriptions.js';
import { killWorker, nodeClient, provisionOn, removeTestServices, startWorker, swarmHarness, swarmWorkspaceSpec } from '../support/swarm.js';

const h = swarmHarness();
const up = h.available ? h : null;
const DEPLOYMENT = `test-${randomUUID().slice(0, 8)}`;
const isFollow = (method: string, url: string) => method === 'GET' && /\/services\/[^/]+\/logs\?/.test(url) && /follow=(1|true)/.test(url);
/** A writer that says a line every 200 ms and one last line when Swarm stops it (TERM). */
const WRITER = ['/bin/sh', '-c', 'trap "echo bye; exit 0" TERM; i=0; while :; do echo "line $i"; i=$((i+1)); sleep 0.2 & wait $!; done'];

/** One follower's view: what arrived and how (and when) it ended. */
function recorder() {
  const lines: LogLine[] = [];
  const ends: Array<{ err?: Error; at: number }> = [];
  return {
    lines,
    ends,
    onLine: (l: LogLine) => lines.push(l),
    onEnd: (err?: Error) => ends.push({ err, at: performance.now() }),
    texts: () => lines.map((l) => l.text),
    /** Waits until at least n lines have arrived. */
    linesAtLeast: (n: number, ms: number, what: string) => eventually(async () => (lines.length >= n ? true : undefined), ms, what),
    /** Waits until the follower has ended (once or more: the caller checks how often). */
    ended: (ms: number) => eventually(async () => (ends.length > 0 ? true : undefined), ms, 'the follower to end'),
  };
}

describe.skipIf(!up && !process.env.CI)('followed logs on Swarm (real two-node swarm)', { timeout: 90_000 }, () => {
  const runId = randomUUID().slice(0, 8);
  const manager = nodeClient(up?.managerHost ?? 'unix:///nonexistent');
  let proxy: DockerProxy;
  let rt: SwarmRuntime;

  const follows = () => proxy.inFlight(isFollow);
  const noFollowOpen = () => eventually(async () => (follows() === 0 ? true : undefined), 5_000, 'no followed log request in flight');

  async function writer(placement: 'worker' | 'any' = 'any'): Promise<{ name: string; id: string }> {
    const workspaceId = randomUUID();
    const onWorker = placement === 'worker' ? createSwarmRuntime({ dockerHost: proxy.dockerHost, placement: ['node.role==worker'], deploymentId: DEPLOYMENT }) : rt;
    const spec = swarmWorkspaceSpec(workspaceId, 1, runId, { entrypoint: WRITER });
    const id = await provisionOn(onWorker, spec, 't');
    return { name: spec.name, id };
  }

  beforeAll(async () => {
    if (!up) throw new Error(`the two-node swarm is not available: ${(h as { reason: string }).reason}`);
    proxy = createDockerProxy(up.managerHost);
    await proxy.listen();
    rt = createSwarmRuntime({ dockerHost: proxy.dockerHost, deploymentId: DEPLOYMENT });
  });

  afterAll(async () => {
    await removeTestServices(manager, runId, DEPLOYMENT);
    await proxy?.close();
  });

  it('sends the tail, then each line as it is written; close() releases the stream and nothing fires after it', async () => {
    const { name } = await writer();
    await eventually(async () => ((await rt.logs(name, 10)) ?? '').includes('line 3') || undefined, 15_000, 'the writer to have written');
    const r = recorder();
    const follower = (await rt.followLogs(name, 2, r.onLine, r.onEnd))!;
    expect(follower).not.toBeNull();
    await r.linesAtLeast(6, 10_000, 'the tail and new lines');
    // The tail (two lines), then lines in order, each with its time and stream.
    const numbers = r.texts().map((t) => Number(/^line (\d+)$/.exec(t)?.[1]));
    expect(numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1)).toBe(true);
    expect(r.lines[0]).toMatchObject({ stream: 'stdout' });
    expect(Math.abs(r.lines[0]!.timestamp!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(follows()).toBe(1);

    follower.close();
    follower.close(); // idempotent
    await noFollowOpen();
    const seen = r.lines.length;
    await new Promise((res) => setTimeout(res, 1_500)); // a watch poll or two would have run
    expect(r.lines.length).toBe(seen);
    expect(r.ends).toEqual([]);
    // The service still runs: close() ended the follow, not the task.
    expect((await rt.inspect(name))?.running).toBe(true);
    await rt.remove(name);
  });

  it('ends when the task stops, after the last line it wrote', async () => {
    const { name } = await writer();
    const r = recorder();
    await rt.followLogs(name, 0, r.onLine, r.onEnd);
    await r.linesAtLeast(2, 10_000, 'lines');
    const t0 = performance.now();
    await rt.stop(name);
    await r.ended(20_000);
    // Swarm signals the task about 2-3 s after the update; the watch then needs a poll and a quiet spell.
    console.log(`swarm logs: stop → follower ended after ${Math.round(r.ends[0]!.at - t0)} ms`);
    expect(r.ends).toHaveLength(1);
    expect(r.ends[0]!.err).toBeUndefined();
    expect(r.texts().at(-1)).toBe('bye');
    await noFollowOpen();
    await rt.remove(name);
  });

  it('ends when the service is removed', async () => {
    const { name } = await writer();
    const r = recorder();
    await rt.followLogs(name, 0, r.onLine, r.onEnd);
    await r.linesAtLeast(2, 10_000, 'lines');
    const t0 = performance.now();
    await rt.remove(name);
    await r.ended(10_000);
    console.log(`swarm logs: service removed → follower ended after ${Math.round(r.ends[0]!.at - t0)} ms`);
    expect(r.ends).toHaveLength(1);
    expect(r.ends[0]!.err).toBeUndefined();
    await noFollowOpen();
  });

  it('a service that does not run ends at once with nothing; a missing one is null', async () => {
    const { name } = await writer();
    await rt.stop(name);
    // Scaled to zero, Swarm deletes the task: the service has nothing to show.
    await eventually(async () => ((await manager.listTasks({ filters: { service: [name] } })) as unknown[]).length === 0 || undefined, 20_000, 'the task to go');
    const r = recorder();
    const t0 = performance.now();
    expect(await rt.followLogs(name, 10, r.onLine, r.onEnd)).not.toBeNull();
    await r.ended(3_000);
    expect(r.ends[0]!.at - t0).toBeLessThan(1_500);
    expect(r.lines).toEqual([]);
    await noFollowOpen();
    await rt.remove(name);
    expect(await rt.followLogs(name, 10, r.onLine, r.onEnd)).toBeNull();
  });

  it('through the server: workspaceLogs sends the agent\'s output and completes when the workspace is paused', async () => {
    let s: TestServer | null = null;
    let id = '';
    const ws = { client: null as ReturnType<typeof connectWs> | null };
    try {
      s = await startTestServer({ CONTAINER_RUNTIME: 'swarm', DOCKER_HOST: proxy.dockerHost, DOCKER_NETWORK: 'host', HEARTBEAT_INTERVAL_S: '1' });
      const created = await s.gql(`mutation { createWorkspace(input: { name: "swarm logs" }) { ... on CreateWorkspaceSuccess { workspace { id } } } }`);
      id = created.data.createWorkspace.workspace.id as string;
      const server = s;
      await eventually(async () => ((await server.gql('query($id: ID!) { workspace(id: $id) { status } }', { id })).data.workspace.status === 'ONLINE' ? true : undefined), 30_000, 'ONLINE');
      ws.client = connectWs(s);
      const sub = ws.client.subscribe(`subscription($id: ID!) { workspaceLogs(workspaceId: $id, tail: 50) { stream text timestamp } }`, { id });
      await sub.collected.until((c) => c.results.some((x) => /state=online/.test(x.data.workspaceLogs.text)), 15_000, 'the online line');
      expect(s.services.logs.openStreams()).toBe(1);
      expect(follows()).toBe(1);
      // Pause removes the service (API.md, Swarm): the subscription completes, no stream stays open.
      expect((await s.gql(PAUSE, { id })).data.pauseWorkspace.__typename).toBe('PauseWorkspaceSuccess');
      await sub.collected.ended(10_000);
      expect(sub.collected.error).toBeNull();
      await eventually(async () => (server.services.logs.openStreams() === 0 ? true : undefined), 5_000, 'the server to hold no log stream');
      await noFollowOpen();
    } finally {
      await ws.client?.dispose();
      await s?.stop();
      // The server's own deployment labels its service: found by the workspace id after a failure.
      for (const svc of (id ? await manager.listServices({ filters: { label: [`${LABEL_WORKSPACE_ID}=${id}`] } }) : []) as Array<{ ID: string }>) {
        await manager.getService(svc.ID).remove().catch(() => {});
      }
    }
  });

  it('ends when the node running the task is lost (the worker host dies)', async () => {
    const { name } = await writer('worker');
    const r = recorder();
    await rt.followLogs(name, 0, r.onLine, r.onEnd);
    await r.linesAtLeast(2, 10_000, 'lines from the worker');
    expect(follows()).toBe(1);
    try {
      const t0 = performance.now();
      killWorker(up!);
      const nodeDown = eventually(
        async () => ((((await manager.getNode(up!.workerNode).inspect()) as { Status: { State: string } }).Status.State === 'down') ? performance.now() : undefined),
        60_000,
        'the manager to mark the worker down',
      );
      await r.ended(60_000);
      const downAt = await nodeDown;
      console.log(`swarm logs: worker killed → node down after ${Math.round(downAt - t0)} ms, follower ended after ${Math.round(r.ends[0]!.at - t0)} ms`);
      expect(r.ends).toHaveLength(1);
      expect(r.ends[0]!.err).toBeUndefined();
      // Ended because the node was lost, within one watch poll of the manager saying so.
      expect(r.ends[0]!.at - downAt).toBeLessThan(2_500);
      await noFollowOpen();
      await rt.remove(name);
    } finally {
      startWorker(up!);
    }
  });
});
