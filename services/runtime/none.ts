// The runtime for "no container runtime configured": every operation is RuntimeUnavailable, so the
// domain takes exactly the path it takes when a daemon is down (FAILED workspaces,
// RuntimeUnavailableError answers), and the sweepers that must not act on "no containers" skip.
import { RuntimeUnavailable, type ContainerRuntime } from './types.js';

export function createNoneRuntime(): ContainerRuntime {
  const unavailable = async (): Promise<never> => {
    throw new RuntimeUnavailable('no container runtime configured');
  };
  return {
    kind: 'none',
    available: () => false,
    ping: async () => false,
    create: unavailable,
    start: unavailable,
    stop: unavailable,
    remove: unavailable,
    inspect: unavailable,
    list: unavailable,
    listByNamePrefix: unavailable,
    writeFile: unavailable,
    listVolumes: unavailable,
    removeVolume: unavailable,
    logs: unavailable,
    followLogs: unavailable,
    imageExists: unavailable,
    events: unavailable,
    hostCpuCount: unavailable,
  };
}
