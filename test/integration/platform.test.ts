// Query.platform (API.md "Outages" and the container contract): the deployment id is generated once per
// database and shared by every instance on it (and kept across restarts); instanceId is INSTANCE_ID or
// random per start; version is the package version; containerRuntime is the CONTAINER_RUNTIME value;
// runtimeReachable follows the runtime and is false with CONTAINER_RUNTIME=none. Who may ask is in
// auth-matrix.test.ts.
import { mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server.js';
import { createFakeRuntime } from '../../services/runtime/fake.js';
import { dbMode } from '../support/database.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
const PLATFORM = '{ platform { deploymentId instanceId version containerRuntime runtimeReachable } }';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function platformOf(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    body: JSON.stringify({ query: PLATFORM }),
  });
  const body = (await res.json()) as { data: { platform: Record<string, unknown> }; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data.platform;
}

describe('platform', () => {
  let s: TestServer;
  const extra: RunningServer[] = [];
  beforeAll(async () => {
    s = await startTestServer({ INSTANCE_ID: 'platform-first' });
  });
  afterAll(async () => {
    for (const x of extra) await x.close();
    await s?.database.drop();
  });

  it('names the deployment, this instance, the version and the runtime; unreachable with CONTAINER_RUNTIME=none', async () => {
    const p = await platformOf(s.url);
    expect(p).toEqual({ deploymentId: expect.stringMatching(UUID), instanceId: 'platform-first', version, containerRuntime: 'none', runtimeReachable: false });
  });

  it('keeps the deployment id across a restart on the same database; a random instance id without INSTANCE_ID', async () => {
    const before = await platformOf(s.url);
    await s.close();
    const again = await startServer({ ...s.config, instanceId: undefined });
    extra.push(again);
    const after = await platformOf(again.url);
    expect(after.deploymentId).toBe(before.deploymentId);
    expect(after.instanceId).toEqual(expect.any(String));
    expect(after.instanceId).not.toBe('platform-first');
    // Another database is another deployment.
    const elsewhere = await startTestServer();
    try {
      expect((await platformOf(elsewhere.url)).deploymentId).not.toBe(before.deploymentId);
    } finally {
      await elsewhere.stop();
    }
  });

  it('reports whether the runtime is reachable as it changes, and the CONTAINER_RUNTIME value', async () => {
    const fake = createFakeRuntime();
    const withRuntime = await startTestServer({ CONTAINER_RUNTIME: 'docker', HEALTH_SWEEP_INTERVAL_S: '1' }, { runtime: fake });
    try {
      expect(await platformOf(withRuntime.url)).toMatchObject({ containerRuntime: 'docker', runtimeReachable: true });
      fake.setAvailable(false);
      expect(await platformOf(withRuntime.url)).toMatchObject({ runtimeReachable: false });
      fake.setAvailable(true);
      expect(await platformOf(withRuntime.url)).toMatchObject({ runtimeReachable: true });
    } finally {
      await withRuntime.stop();
    }
  });
});

describe.skipIf(dbMode() !== 'server')('platform on two instances of one database', () => {
  let a: TestServer;
  let b: RunningServer | undefined;
  beforeAll(async () => {
    a = await startTestServer({ INSTANCE_ID: 'platform-a' });
  });
  afterAll(async () => {
    await b?.close();
    await a?.stop();
  });

  it('shares one deployment id between instances, each with its own instance id', async () => {
    b = await startServer({ ...a.config, instanceId: 'platform-b', dataDir: await mkdtemp(path.join(os.tmpdir(), 'ws-platform-b-')) });
    const [pa, pb] = [await platformOf(a.url), await platformOf(b.url)];
    expect(pa.deploymentId).toBe(pb.deploymentId);
    expect([pa.instanceId, pb.instanceId]).toEqual(['platform-a', 'platform-b']);
  });
});
