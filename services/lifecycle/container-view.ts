// Workspace.container and Workspace.logs: the live view from the runtime. Containers of many
// workspaces come from one list call (a DataLoader batches a whole request), a single workspace from
// one inspect, which also reports the start time.
import type { Logger } from '../log.js';
import { LABEL_WORKSPACE_ID, containerNameFor, type ContainerInfo, type ContainerRuntime } from '../runtime/types.js';
import { generationOf } from '../provisioning/container-spec.js';
import { listManagedFor } from './containers.js';

export interface ContainerView {
  id: string;
  name: string;
  image: string;
  running: boolean;
  startedAt: Date | null;
}

export const MAX_LOG_TAIL = 10_000;

function view(c: ContainerInfo): ContainerView {
  return { id: c.id, name: c.name, image: c.image, running: c.running, startedAt: c.startedAt };
}

/** During a restart two generations can exist for a moment: the newest is the workspace's. */
function newest(a: ContainerInfo, b: ContainerInfo): ContainerInfo {
  return (generationOf(b.labels) ?? -1) > (generationOf(a.labels) ?? -1) ? b : a;
}

/** One entry per id, null when the workspace has no container or the runtime cannot be asked. */
export async function containersFor(runtime: ContainerRuntime, log: Logger, ids: readonly string[]): Promise<(ContainerView | null)[]> {
  // Known unreachable: answered at once, no request waits for the runtime.
  if (ids.length === 0 || runtime.kind === 'none' || !runtime.available()) return ids.map(() => null);
  try {
    if (ids.length === 1) {
      const c = await runtime.inspect(containerNameFor(ids[0]!));
      return [c && c.labels[LABEL_WORKSPACE_ID] === ids[0] ? view(c) : null];
    }
    const byWorkspace = new Map<string, ContainerInfo>();
    for (const c of await listManagedFor(runtime, ids)) {
      const id = c.labels[LABEL_WORKSPACE_ID]!;
      const seen = byWorkspace.get(id);
      byWorkspace.set(id, seen ? newest(seen, c) : c);
    }
    return ids.map((id) => {
      const c = byWorkspace.get(id);
      return c ? view(c) : null;
    });
  } catch (err) {
    // The live view is best effort: a daemon that does not answer shows as "no container known".
    log.debug({ err }, 'container view unavailable');
    return ids.map(() => null);
  }
}

export async function containerLogs(runtime: ContainerRuntime, log: Logger, containerId: string, tail: number): Promise<string | null> {
  const lines = Math.min(Math.max(Math.trunc(tail), 0), MAX_LOG_TAIL);
  if (!runtime.available()) return null;
  try {
    return await runtime.logs(containerId, lines);
  } catch (err) {
    log.debug({ err }, 'container logs unavailable');
    return null;
  }
}
