// DOCKER_HOST over TCP with TLS, as the docker CLI reads it (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH with
// ca.pem, cert.pem, key.pem), against the real swarm's manager: .ci/start-swarm.sh makes a CA, a server
// certificate for the manager and a client certificate, and the manager listens on
// tcp://$SWARM_MANAGER_ADDR:12376 with --tlsverify (client certificates required). Every refusal must
// be a RuntimeUnavailable that says what is wrong, at once: a TLS failure is not a daemon that hangs.
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { createDockerRuntime } from '../../services/runtime/docker.js';
import { createSwarmRuntime } from '../../services/runtime/swarm.js';
import { LABEL_WORKSPACE_ID, RuntimeUnavailable, type LogLine } from '../../services/runtime/types.js';
import { createWorkspace, eventually } from '../support/lifecycle-fixtures.js';
import { startTestServer } from '../support/server.js';
import { nodeClient, provisionOn, removeTestServices, swarmHarness, swarmWorkspaceSpec } from '../support/swarm.js';

const h = swarmHarness();
const up = h.available ? h : null;
const DEPLOYMENT = `test-${randomUUID().slice(0, 8)}`;
/** A refusal must come this fast: the handshake fails, nothing waits for a timeout. */
const PROMPT_MS = 2_000;

describe.skipIf(!up && !process.env.CI)('Swarm manager over TCP with TLS (real two-node swarm)', { timeout: 60_000 }, () => {
  const runId = randomUUID().slice(0, 8);
  const manager = nodeClient(up?.managerHost ?? 'unix:///nonexistent');
  const dirs: string[] = [];

  /** The environment a deployment would set, with DOCKER_CERT_PATH made of the given files of the harness's. */
  function tlsEnv(files: { ca?: string; cert?: string; key?: string } = {}): Record<string, string> {
    let certPath = up!.certPath;
    if (Object.keys(files).length > 0) {
      certPath = mkdtempSync(join(tmpdir(), 'swarm-tls-'));
      dirs.push(certPath);
      const from = (name: string) => join(up!.certPath, name);
      copyFileSync(from(files.ca ?? 'ca.pem'), join(certPath, 'ca.pem'));
      copyFileSync(from(files.cert ?? 'cert.pem'), join(certPath, 'cert.pem'));
      copyFileSync(from(files.key ?? 'key.pem'), join(certPath, 'key.pem'));
    }
    return { CONTAINER_RUNTIME: 'swarm', DOCKER_HOST: up!.managerTcp, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certPath };
  }

  function swarmFrom(env: Record<string, string>) {
    const config = loadConfig(env);
    return createSwarmRuntime({ dockerHost: config.dockerHost, dockerTls: config.dockerTls, deploymentId: DEPLOYMENT });
  }

  /** Ping, create and list all refuse promptly with a RuntimeUnavailable whose message matches `why`. */
  async function expectRefused(env: Record<string, string>, why: RegExp): Promise<void> {
    const rt = swarmFrom(env);
    const t0 = performance.now();
    expect(await rt.ping()).toBe(false);
    expect(rt.available()).toBe(false);
    const create = await rt.create(swarmWorkspaceSpec(randomUUID(), 1, runId)).then(() => null, (err: unknown) => err);
    expect(create).toBeInstanceOf(RuntimeUnavailable);
    expect((create as Error).message).toMatch(why);
    await expect(rt.list([`${LABEL_WORKSPACE_ID}`])).rejects.toBeInstanceOf(RuntimeUnavailable);
    expect(performance.now() - t0).toBeLessThan(3 * PROMPT_MS);
    expect(rt.available()).toBe(false);
  }

  beforeAll(() => {
    if (!up) throw new Error(`the two-node swarm is not available: ${(h as { reason: string }).reason}`);
  });

  afterAll(async () => {
    await removeTestServices(manager, runId, DEPLOYMENT);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('with the CA and a client certificate, the swarm runtime lists, creates, follows and removes services', async () => {
    const rt = swarmFrom(tlsEnv());
    expect(await rt.ping()).toBe(true);
    const workspaceId = randomUUID();
    const spec = swarmWorkspaceSpec(workspaceId, 1, runId, { entrypoint: ['/bin/sh', '-c', 'while :; do echo tls-line; sleep 0.2; done'] });
    await provisionOn(rt, spec, 'tls');
    expect(await rt.inspect(spec.name)).toMatchObject({ running: true, labels: { [LABEL_WORKSPACE_ID]: workspaceId } });
    expect((await rt.list([`${LABEL_WORKSPACE_ID}=${workspaceId}`])).map((c) => c.name)).toEqual([(await rt.inspect(spec.name))!.name]);
    // The followed log holds its own connection (no idle timeout): over TLS too.
    const lines: LogLine[] = [];
    const follower = await rt.followLogs(spec.name, 1, (l) => lines.push(l), () => {});
    await eventually(async () => (lines.some((l) => l.text === 'tls-line') ? true : undefined), 10_000, 'a line over TLS');
    follower!.close();
    await rt.remove(spec.name);
    expect(await rt.inspect(spec.name)).toBeNull();
    // The same certificates serve the Docker runtime (CONTAINER_RUNTIME=docker on a TLS daemon).
    const config = loadConfig({ ...tlsEnv(), CONTAINER_RUNTIME: 'docker' });
    const docker = createDockerRuntime({ dockerHost: config.dockerHost, dockerTls: config.dockerTls });
    expect(await docker.ping()).toBe(true);
    expect(await docker.imageExists('workspace-agent:latest')).toBe(true);
  });

  it('a CA that did not sign the manager\'s certificate is refused at once, as RuntimeUnavailable naming TLS and ca.pem', async () => {
    await expectRefused(tlsEnv({ ca: 'untrusted-ca.pem' }), /TLS: the daemon's certificate is not trusted with DOCKER_CERT_PATH's ca\.pem/);
  });

  it('a client certificate the manager does not accept is refused at once, as RuntimeUnavailable naming TLS', async () => {
    // A self-signed certificate: no CA the daemon trusts issued it.
    await expectRefused(tlsEnv({ cert: 'untrusted-ca.pem', key: 'untrusted-ca-key.pem' }), /TLS: the daemon refused DOCKER_CERT_PATH's cert\.pem/);
  });

  it('plain HTTP to the TLS port is refused at once, saying the daemon speaks only TLS', async () => {
    await expectRefused({ CONTAINER_RUNTIME: 'swarm', DOCKER_HOST: up!.managerTcp }, /speaks only TLS; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH/);
  });

  it('through the server: reachable with the right CA; with a wrong one, not, and a new workspace fails at once', async () => {
    const query = '{ platform { containerRuntime runtimeReachable } }';
    const good = await startTestServer(tlsEnv());
    try {
      const platform = await eventually(async () => {
        const p = (await good.gql(query)).data.platform as { runtimeReachable: boolean };
        return p.runtimeReachable ? p : undefined;
      }, PROMPT_MS, 'runtimeReachable');
      expect(platform).toEqual({ containerRuntime: 'swarm', runtimeReachable: true });
    } finally {
      await good.stop();
    }
    const bad = await startTestServer(tlsEnv({ ca: 'untrusted-ca.pem' }));
    try {
      const created = await createWorkspace(bad, { name: 'wrong CA' });
      const status = await eventually(async () => {
        const w = (await bad.gql('query($id: ID!) { workspace(id: $id) { status } }', { id: created.id })).data.workspace as { status: string };
        return w.status === 'FAILED' ? w.status : undefined;
      }, 5_000, 'the workspace to fail');
      expect(status).toBe('FAILED');
      expect((await bad.gql(query)).data.platform).toEqual({ containerRuntime: 'swarm', runtimeReachable: false });
    } finally {
      await bad.stop();
    }
  });
});
