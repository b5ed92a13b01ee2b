// The ids a Swarm runtime hands out come back to it: a ContainerInfo's id is its task's container id
// (64 hex), and the lifecycle and sweepers then stop or remove "that container". This finds the
// service again: remembered from every listing (bounded), else one task listing.
import type Docker from 'dockerode';
import type { SwarmTask } from './swarm-model.js';
import type { ContainerInfo } from './types.js';

const CONTAINER_ID = /^[0-9a-f]{64}$/;
const REMEMBERED = 10_000;

export function createServiceResolver(api: Docker) {
  const serviceOfContainer = new Map<string, string>();
  return {
    /** Notes which service a ContainerInfo about to be handed out belongs to. */
    remember(info: ContainerInfo, serviceId: string): ContainerInfo {
      if (info.id !== serviceId) {
        serviceOfContainer.delete(info.id);
        serviceOfContainer.set(info.id, serviceId);
        if (serviceOfContainer.size > REMEMBERED) serviceOfContainer.delete(serviceOfContainer.keys().next().value!);
      }
      return info;
    },
    /** A service id or name as is; a task's container id → its service; null = no such task. */
    async serviceRef(idOrName: string): Promise<string | null> {
      if (!CONTAINER_ID.test(idOrName)) return idOrName;
      const known = serviceOfContainer.get(idOrName);
      if (known) return known;
      const tasks = (await api.listTasks()) as SwarmTask[];
      return tasks.find((t) => t.Status?.ContainerStatus?.ContainerID === idOrName)?.ServiceID ?? null;
    },
  };
}
