// STUB: the lifecycle helper replaces this file. Interface owned by services/lifecycle.
import type { ServiceDeps } from '../deps.js';
import type { SecretService } from '../secrets/service.js';
import type { TokenService } from '../tokens/service.js';
import type { WorkspaceRecord } from '../workspaces/record.js';

export interface LifecycleService {
  /** After createWorkspace committed a container workspace as PROVISIONING at `generation`. */
  provisionCreated(workspace: WorkspaceRecord): void;
  /** After deleteWorkspace committed REMOVED for these workspaces: remove containers then volumes. */
  cleanupRemoved(workspaceIds: string[]): void;
}

export function createLifecycleService(_deps: ServiceDeps & { tokens: TokenService; secrets: SecretService }): LifecycleService {
  return {
    provisionCreated() {},
    cleanupRemoved() {},
  };
}
