// Taking containers away: pause, hibernate, crash-loop FAILED and delete. A stop gets a short grace
// (the reference agent exits on TERM at once) and the container is then force-removed. Each target
// names the newest generation it may remove, so a stale remover never takes a newer provisioner's
// container (pause or hibernate racing a restart).
import type { Logger } from '../log.js';
import { generationOf } from '../provisioning/container-spec.js';
import { LABEL_MANAGED, LABEL_WORKSPACE_ID, configVolumeFor, type ContainerInfo, type ContainerRuntime } from '../runtime/types.js';

export const STOP_GRACE_S = 3;

export interface DiscardTarget {
  workspaceId: string;
  /** Remove containers up to this generation; null = every container of the workspace (REMOVED). */
  upToGeneration: number | null;
}

/** Containers labeled for these workspaces, with one list call whatever their number. */
export async function listManagedFor(runtime: ContainerRuntime, workspaceIds: readonly string[]): Promise<ContainerInfo[]> {
  if (workspaceIds.length === 0) return [];
  const wanted = new Set(workspaceIds);
  const filter = workspaceIds.length === 1 ? [`${LABEL_WORKSPACE_ID}=${workspaceIds[0]}`] : [`${LABEL_MANAGED}=true`];
  const all = await runtime.list(filter);
  return all.filter((c) => wanted.has(c.labels[LABEL_WORKSPACE_ID] ?? ''));
}

/** Stops (short grace) and force-removes one container. */
export async function discardContainer(runtime: ContainerRuntime, containerId: string): Promise<void> {
  try {
    await runtime.stop(containerId, STOP_GRACE_S);
  } catch {
    // The forced remove below kills it anyway; only its failure counts.
  }
  await runtime.remove(containerId, { force: true });
}

/** Removes the targets' containers; returns the workspace ids whose containers did not all go. */
export async function discardContainers(runtime: ContainerRuntime, targets: readonly DiscardTarget[], log: Logger): Promise<Set<string>> {
  const failed = new Set<string>();
  if (targets.length === 0) return failed;
  const limit = new Map(targets.map((t) => [t.workspaceId, t.upToGeneration]));
  let containers: ContainerInfo[];
  try {
    containers = await listManagedFor(runtime, [...limit.keys()]);
  } catch (err) {
    log.warn({ err }, 'could not list containers to remove');
    return new Set(limit.keys());
  }
  const doomed = containers.filter((c) => {
    const upTo = limit.get(c.labels[LABEL_WORKSPACE_ID]!);
    return upTo === null || upTo === undefined || (generationOf(c.labels) ?? 0) <= upTo;
  });
  await Promise.all(
    doomed.map(async (c) => {
      try {
        await discardContainer(runtime, c.id);
      } catch (err) {
        failed.add(c.labels[LABEL_WORKSPACE_ID]!);
        log.warn({ err, container: c.name }, 'could not remove a workspace container');
      }
    }),
  );
  return failed;
}

/** After REMOVED: containers first, then the config volumes of the workspaces whose containers all went. */
export async function removeWorkspaceResources(runtime: ContainerRuntime, workspaceIds: readonly string[], log: Logger): Promise<void> {
  const failed = await discardContainers(
    runtime,
    workspaceIds.map((workspaceId) => ({ workspaceId, upToGeneration: null })),
    log,
  );
  await Promise.all(
    workspaceIds
      .filter((id) => !failed.has(id))
      .map((id) =>
        // A volume still in use (a provisioner racing the delete) stays for the orphan sweeper.
        runtime.removeVolume(configVolumeFor(id)).catch((err: unknown) => log.warn({ err, workspaceId: id }, 'config volume kept; the orphan sweeper will remove it')),
      ),
  );
}
