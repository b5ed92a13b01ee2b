// Frees the container name `ws-<12>` for a generation: a container left by an older generation is
// force-removed (it is being discarded), a newer generation's container means this provisioner lost.
import { ContainerNameConflict, containerNameFor, type ContainerInfo, type ContainerRuntime, type ContainerSpec } from '../runtime/types.js';
import { LABEL_WORKSPACE_ID } from '../runtime/types.js';
import { generationOf } from './container-spec.js';

/** Another provisioner of a newer generation holds the name: this one has lost. */
export class NewerGenerationPresent extends Error {
  constructor(readonly found: number) {
    super(`a container of generation ${found} exists`);
    this.name = 'NewerGenerationPresent';
  }
}

/** A container with the workspace's name that this server did not create for it: never removed. */
export class ForeignContainerInTheWay extends Error {
  constructor(readonly containerName: string) {
    super(`container ${containerName} is not managed for this workspace`);
    this.name = 'ForeignContainerInTheWay';
  }
}

export type Existing = { kind: 'none' } | { kind: 'own-running'; container: ContainerInfo } | { kind: 'removed' };

/**
 * Looks at what holds the name. `own-running` (a started container of this very generation) happens
 * when a provisioning interrupted after its start is resumed: it is adopted, not recreated.
 */
export async function clearNameFor(runtime: ContainerRuntime, workspaceId: string, generation: number): Promise<Existing> {
  const existing = await runtime.inspect(containerNameFor(workspaceId));
  if (!existing) return { kind: 'none' };
  if (existing.labels[LABEL_WORKSPACE_ID] !== workspaceId) throw new ForeignContainerInTheWay(existing.name);
  const found = generationOf(existing.labels) ?? -1;
  if (found > generation) throw new NewerGenerationPresent(found);
  if (found === generation && existing.running) return { kind: 'own-running', container: existing };
  // Older, or ours but never started (interrupted between create and start): discard it. Only the
  // claim holder calls this, so a container of its generation is never another claimant's work.
  await runtime.remove(existing.id, { force: true });
  return { kind: 'removed' };
}

/** How long a name may stay taken by a container that someone else is already removing. */
const NAME_FREE_TIMEOUT_MS = 15_000;

/**
 * Creates the container. A name conflict (an older container still there, or one whose removal by a
 * concurrent provisioner is still in progress: Docker frees the name only once that removal ends)
 * clears the name and retries, with a short growing pause, for a bounded time.
 */
export async function createContainer(runtime: ContainerRuntime, spec: ContainerSpec, workspaceId: string, generation: number): Promise<string> {
  const deadline = Date.now() + NAME_FREE_TIMEOUT_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return (await runtime.create(spec)).id;
    } catch (err) {
      if (!(err instanceof ContainerNameConflict) || Date.now() > deadline) throw err;
      const cleared = await clearNameFor(runtime, workspaceId, generation);
      // Our own running container cannot appear here: only this provisioner creates this generation.
      if (cleared.kind === 'own-running') throw err;
      if (cleared.kind === 'removed' && attempt === 1) continue;
      await new Promise((r) => setTimeout(r, Math.min(25 * attempt, 250)));
    }
  }
}
