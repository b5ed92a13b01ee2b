// What the lifecycle operations share: the service dependencies plus the hand-off to the
// asynchronous provisioner and to background cleanup.
import type { ServiceDeps } from '../deps.js';
import type { SecretService } from '../secrets/service.js';
import type { TokenService } from '../tokens/service.js';
import type { WorkspaceRecord } from '../workspaces/record.js';

export type LifecycleDeps = ServiceDeps & { tokens: TokenService; secrets: SecretService };

export interface LifecycleContext extends LifecycleDeps {
  /** After a PROVISIONING commit: provision this generation off the request. */
  provisioningBegan(workspace: WorkspaceRecord, opts?: { resetConfig?: boolean }): void;
  /** Runs work not tied to the request (cleanup after commit); errors are logged, never thrown. */
  background(name: string, fn: () => Promise<void>): void;
}
