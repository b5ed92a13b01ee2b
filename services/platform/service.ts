// Query.platform: which deployment and instance answered, and whether its container runtime is
// reachable (this instance's circuit, so the answer never waits for the runtime).
import { createRequire } from 'node:module';
import type { ServiceDeps } from '../deps.js';

export interface PlatformInfo {
  deploymentId: string;
  instanceId: string;
  version: string;
  containerRuntime: string;
  runtimeReachable: boolean;
}

export interface PlatformService {
  info(): PlatformInfo;
}

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export function createPlatformService(deps: Pick<ServiceDeps, 'config' | 'runtime' | 'instanceId' | 'deploymentId'>): PlatformService {
  return {
    info: () => ({
      deploymentId: deps.deploymentId,
      instanceId: deps.instanceId,
      version,
      containerRuntime: deps.config.containerRuntime,
      runtimeReachable: deps.runtime.kind !== 'none' && deps.runtime.available(),
    }),
  };
}
