// workspaceLogs through a real server on a real Docker daemon with the reference agent: the tail of the
// agent's output, the lines it writes while followed, completion when the container goes, and no log
// stream left open toward the daemon once the subscriber leaves (counted at a proxy in front of the
// daemon, where every Docker API request of the server passes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerProxy } from '../support/docker-proxy.js';
import { dockerAvailable, startProxiedDockerServer, type ProxiedDockerServer } from '../support/docker-e2e.js';
import { eventually, PAUSE } from '../support/lifecycle-fixtures.js';
import type { TestServer } from '../support/server.js';
import { connectWs, subscribeSse, type WsClient } from '../support/subscriptions.js';

const CREATE = `mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { ... on CreateWorkspaceSuccess { workspace { id } } } }`;
const LOGS = `subscription($id: ID!, $tail: Int) { workspaceLogs(workspaceId: $id, tail: $tail) { stream text timestamp } }`;
const isFollow = (method: string, url: string) => method === 'GET' && /\/containers\/[^/]+\/logs\?/.test(url) && /follow=(1|true)/.test(url);

describe.skipIf(!dockerAvailable && !process.env.CI)('workspaceLogs on Docker', { timeout: 60_000 }, () => {
  let docker: ProxiedDockerServer;
  let proxy: DockerProxy;
  let s: TestServer;
  let ws: WsClient;

  beforeAll(async () => {
    docker = await startProxiedDockerServer();
    ({ server: s, proxy } = docker);
    ws = connectWs(s);
  }, 120_000);

  afterAll(async () => {
    await ws?.dispose();
    await docker?.close();
  });

  async function online(): Promise<string> {
    const r = await s.gql(CREATE, { input: { name: 'logs e2e' } });
    const id = r.data.createWorkspace.workspace.id as string;
    docker.created.push(id);
    await eventually(async () => ((await s.gql('query($id: ID!) { workspace(id: $id) { status } }', { id })).data.workspace.status === 'ONLINE' ? true : undefined), 30_000);
    return id;
  }

  const noStreamOpen = () => eventually(async () => (s.services.logs.openStreams() === 0 && proxy.inFlight(isFollow) === 0 ? true : undefined), 5_000);

  it("sends the agent's recent output, then the lines it writes, and completes when the workspace is paused", async () => {
    const id = await online();
    const sub = ws.subscribe(LOGS, { id, tail: 50 });
    await sub.collected.until((c) => c.results.some((r) => /state=online/.test(r.data.workspaceLogs.text)), 10_000, 'the online line');
    expect(proxy.inFlight(isFollow)).toBe(1);
    const first = sub.collected.results[0]!.data.workspaceLogs;
    expect(first.stream).toBe('STDOUT');
    expect(Math.abs(Date.parse(first.timestamp) - Date.now())).toBeLessThan(120_000);
    const seen = sub.collected.results.length;
    // Pausing stops the container: the agent traps TERM and says so, then its output ends.
    expect((await s.gql(PAUSE, { id })).data.pauseWorkspace.__typename).toBe('PauseWorkspaceSuccess');
    await sub.collected.ended(20_000);
    expect(sub.collected.error).toBeNull();
    const later = sub.collected.results.slice(seen).map((r) => r.data.workspaceLogs.text);
    expect(later.some((t) => /state=stopping/.test(t))).toBe(true);
    await noStreamOpen();
  });

  it('closes the stream toward the daemon when a graphql-ws or SSE subscriber leaves', async () => {
    const id = await online();
    const viaWs = ws.subscribe(LOGS, { id, tail: 5 });
    const viaSse = subscribeSse(s, LOGS, { id, tail: 5 });
    await viaWs.collected.count(1, 10_000);
    await viaSse.collected.count(1, 10_000);
    expect(s.services.logs.openStreams()).toBe(2);
    expect(proxy.inFlight(isFollow)).toBe(2);
    viaWs.unsubscribe();
    viaSse.stop();
    await noStreamOpen();
  });

  it('completes at once with nothing for a workspace whose container is gone', async () => {
    const id = await online();
    expect((await s.gql(PAUSE, { id })).data.pauseWorkspace.__typename).toBe('PauseWorkspaceSuccess');
    await eventually(async () => ((await s.gql('query($id: ID!) { workspace(id: $id) { container { id } } }', { id })).data.workspace.container === null ? true : undefined), 20_000);
    const started = Date.now();
    const sub = ws.subscribe(LOGS, { id, tail: 5 });
    await sub.collected.ended(1_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(sub.collected.results).toEqual([]);
    await noStreamOpen();
  });
});
