// The orphan sweeper on Swarm (API.md "On Docker Swarm", "Reconcilers"), two servers with two
// databases (two deployments) on one swarm. Each removes its own orphan services and secrets (workspace
// absent or REMOVED) and the secrets of superseded generations that no service uses; neither touches
// the other's resources (a live workspace of one has no row in the other's database), nor unlabeled
// secrets, nor a `ws-*` service with neither label nor row; a workspace with a service counts as
// having a container for the stale-token pass. Server B sweeps by itself every second;
// server A's sweeper is driven directly, so that what each pass did is counted exactly.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_DEPLOYMENT, LABEL_GENERATION, LABEL_MANAGED, LABEL_WORKSPACE_ID, containerNameFor } from '../../services/runtime/types.js';
import { CREATE, RESTART, eventually } from '../support/lifecycle-fixtures.js';
import { insertToken, insertWorkspace, liveTokens } from '../support/reconcilers.js';
import { swarmHarness } from '../support/swarm.js';
import { reachStatus, startSwarmServer, swarmView, tokenSecretOf, type SwarmServer, type SwarmView, type UpSwarm } from '../support/swarm-server.js';

const h = swarmHarness();
const up = h.available ? (h as UpSwarm) : null;
const IMAGE = 'workspace-agent:latest';
/** Older than STALE_TOKEN_GRACE_S (300 s by default). */
const STALE_S = 400;

const labels = (deployment: string | null, workspaceId: string, generation: number) => ({
  [LABEL_MANAGED]: 'true',
  ...(deployment ? { [LABEL_DEPLOYMENT]: deployment } : {}),
  [LABEL_WORKSPACE_ID]: workspaceId,
  [LABEL_GENERATION]: String(generation),
});

describe.skipIf(!up && !process.env.CI)('the orphan sweeper on Swarm, two deployments on one swarm', { timeout: 60_000 }, () => {
  let a: SwarmServer;
  let b: SwarmServer;
  let swarm: SwarmView;
  const unlabeledServices: string[] = [];
  const unlabeledSecrets: string[] = [];

  beforeAll(async () => {
    if (!up) throw new Error(`the two-node swarm is not available: ${(h as { reason: string }).reason}`);
    swarm = swarmView(up);
    [a, b] = await Promise.all([
      // Its health sweep ticks once, at start: no auto-restart among the fixtures.
      startSwarmServer(up.managerHost, { ORPHAN_SWEEP_INTERVAL_S: '3600', HEALTH_SWEEP_INTERVAL_S: '3600' }),
      startSwarmServer(up.managerHost, { ORPHAN_SWEEP_INTERVAL_S: '1' }),
    ]);
  });

  afterAll(async () => {
    const deployments = [a?.deploymentId, b?.deploymentId].filter((d): d is string => !!d);
    await Promise.all([a?.stop(), b?.stop()]);
    await swarm?.removeAll(deployments, { services: unlabeledServices, secrets: unlabeledSecrets });
  });

  /** A service at zero replicas (no task): what a sweeper sees of a leftover. */
  async function plantService(name: string, serviceLabels: Record<string, string>, secret?: { id: string; name: string }): Promise<void> {
    const spec = {
      Name: name,
      Labels: serviceLabels,
      TaskTemplate: {
        ContainerSpec: {
          Image: IMAGE,
          Labels: serviceLabels,
          Secrets: secret ? [{ SecretID: secret.id, SecretName: secret.name, File: { Name: '/configs/.auth_token', UID: '0', GID: '0', Mode: 0o600 } }] : [],
        },
        RestartPolicy: { Condition: 'none' },
      },
      Mode: { Replicated: { Replicas: 0 } },
    };
    await swarm.manager.createService(undefined as never, spec as never);
  }

  async function plantSecret(name: string, secretLabels: Record<string, string>): Promise<{ id: string; name: string }> {
    const { id } = await swarm.manager.createSecret({ _query: {}, _body: { Name: name, Labels: secretLabels, Data: Buffer.from('leftover').toString('base64') } });
    return { id: id as string, name };
  }

  async function createOnline(s: SwarmServer): Promise<string> {
    const r = await s.gql(CREATE, { input: { name: 'swarm sweeper', tier: 1 } });
    const id = r.data.createWorkspace.workspace.id as string;
    await reachStatus(s, id, 'ONLINE');
    return id;
  }

  const serviceExists = async (name: string) => (await swarm.service(name)) !== null;
  const secretExists = async (name: string) => (await swarm.secret(name)) !== null;

  it("each server removes exactly its own orphans and superseded secrets; neither touches the other's, nor unlabeled ones", async () => {
    const [liveA, liveB] = await Promise.all([createOnline(a), createOnline(b)]);
    // Two restarts: generation 3 runs; generation 2 is left as if its service's removal were pending.
    for (const generation of [2, 3]) {
      expect((await a.gql(RESTART, { id: liveA })).data.restartWorkspace.__typename).toBe('RestartWorkspaceSuccess');
      await reachStatus(a, liveA, 'ONLINE');
      await a.services.lifecycle.idle();
      expect(await swarm.secretNames(liveA)).toEqual([tokenSecretOf(liveA, generation)]);
    }

    // A's orphans: one per pass, each a leftover the rules name.
    const ghost = randomUUID(); // no row: its service
    const ghostSecret = randomUUID(); // no row: its secret
    const removed = await insertWorkspace(a.db, { status: 'REMOVED' }); // REMOVED: its service
    const removedSecret = await insertWorkspace(a.db, { status: 'REMOVED' }); // REMOVED: its secret
    const orphansOfA = {
      services: [containerNameFor(ghost), containerNameFor(removed)],
      secrets: [tokenSecretOf(ghostSecret, 1), tokenSecretOf(removedSecret, 1), tokenSecretOf(liveA, 1)],
    };
    await plantService(containerNameFor(ghost), labels(a.deploymentId, ghost, 1));
    await plantService(containerNameFor(removed), labels(a.deploymentId, removed, 1));
    await plantSecret(tokenSecretOf(ghostSecret, 1), labels(a.deploymentId, ghostSecret, 1));
    await plantSecret(tokenSecretOf(removedSecret, 1), labels(a.deploymentId, removedSecret, 1));
    await plantSecret(tokenSecretOf(liveA, 1), labels(a.deploymentId, liveA, 1)); // superseded, unused
    // Generation 2 of the live workspace: superseded too, but a service of that generation still uses it.
    const spare = `${containerNameFor(liveA)}-spare`;
    await plantService(spare, labels(a.deploymentId, liveA, 2), await plantSecret(`${spare}-token-2`, labels(a.deploymentId, liveA, 2)));

    // Left alone by both: unlabeled secrets (none at all, or no deployment), a `ws-*` service with neither label nor row.
    unlabeledSecrets.push(`${containerNameFor(removedSecret)}-token-7`, `${containerNameFor(removedSecret)}-token-8`);
    await plantSecret(unlabeledSecrets[0]!, {});
    await plantSecret(unlabeledSecrets[1]!, labels(null, removedSecret, 8));
    unlabeledServices.push(containerNameFor(randomUUID()));
    await plantService(unlabeledServices[0]!, {});

    // Stale tokens (created long ago, never used) of two FAILED workspaces: one still has a service (at
    // zero replicas, no task), which counts as a container, so its token is kept; the other has none.
    const withService = await insertWorkspace(a.db, { status: 'FAILED' });
    const withoutService = await insertWorkspace(a.db, { status: 'FAILED' });
    const keptToken = await insertToken(a.db, withService, { createdAgoS: STALE_S });
    const staleToken = await insertToken(a.db, withoutService, { createdAgoS: STALE_S });
    await plantService(containerNameFor(withService), labels(a.deploymentId, withService, 1));

    // B's orphans, which B's own loop removes: that proves it swept while all of A's were there.
    const ghostOfB = randomUUID();
    await plantService(containerNameFor(ghostOfB), labels(b.deploymentId, ghostOfB, 1));
    await plantSecret(tokenSecretOf(ghostOfB, 2), labels(b.deploymentId, ghostOfB, 2));
    await eventually(
      async () => (!(await serviceExists(containerNameFor(ghostOfB))) && !(await secretExists(tokenSecretOf(ghostOfB, 2))) ? true : undefined),
      15_000,
      "B's loop to remove B's orphans",
    );

    // B left everything of A's (the live workspace has no row in B's database) and the unlabeled.
    const keptByB = {
      services: [...orphansOfA.services, containerNameFor(liveA), spare, ...unlabeledServices],
      secrets: [...orphansOfA.secrets, tokenSecretOf(liveA, 3), `${spare}-token-2`, ...unlabeledSecrets],
    };
    for (const n of keptByB.services) expect(await serviceExists(n), n).toBe(true);
    for (const n of keptByB.secrets) expect(await secretExists(n), n).toBe(true);

    const report = await a.services.reconcilers.sweeper.cycle();
    expect(report).toEqual({
      'removed-rows': { status: 'done', acted: 1 },
      'no-row': { status: 'done', acted: 1 },
      'orphan-volumes': { status: 'done', acted: 2 },
      'superseded-secrets': { status: 'done', acted: 1 },
      'stale-tokens': { status: 'done', acted: 1 },
    });
    for (const n of orphansOfA.services) expect(await serviceExists(n), n).toBe(false);
    for (const n of orphansOfA.secrets) expect(await secretExists(n), n).toBe(false);

    // What A must keep: its live workspace, the secret still in use, B's live workspace (no row in A's
    // database, but B's), the unlabeled ones.
    for (const n of [containerNameFor(liveA), spare, containerNameFor(withService), containerNameFor(liveB), ...unlabeledServices]) expect(await serviceExists(n), n).toBe(true);
    for (const n of [tokenSecretOf(liveA, 3), `${spare}-token-2`, tokenSecretOf(liveB, 1), ...unlabeledSecrets]) expect(await secretExists(n), n).toBe(true);
    expect(await liveTokens(a.db, withService)).toEqual([keptToken]);
    expect(await liveTokens(a.db, withoutService)).toEqual([]);
    expect(staleToken).not.toBe(keptToken);
    await reachStatus(a, liveA, 'ONLINE', 1_000);
    await reachStatus(b, liveB, 'ONLINE', 1_000);

    // Nothing left to do: a second cycle acts on nothing.
    const again = await a.services.reconcilers.sweeper.cycle();
    expect(Object.values(again)).toEqual(Array(5).fill({ status: 'done', acted: 0 }));
  });
});
