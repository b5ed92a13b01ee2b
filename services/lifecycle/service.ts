// STUB: the lifecycle helper replaces the implementation; the interface below is what the other
// services and resolvers call.
import type { ServiceDeps } from '../deps.js';
import type { SecretService } from '../secrets/service.js';
import type { TokenService } from '../tokens/service.js';
import type { WorkspaceRecord } from '../workspaces/record.js';

export interface LifecycleService {
  /** After createWorkspace committed a container workspace as PROVISIONING (generation 1): provision it. */
  provisionCreated(workspace: WorkspaceRecord): void;
  /** After deleteWorkspace committed REMOVED for these workspaces: remove containers, then volumes. */
  cleanupRemoved(workspaceIds: string[]): void;
  /** restartWorkspace; throws NotFound/Conflict/ParentPaused/RuntimeUnavailable errors. */
  restart(id: string, opts?: { resetConfig?: boolean }): Promise<WorkspaceRecord>;
  pause(id: string): Promise<{ workspace: WorkspaceRecord; pausedCount: number }>;
  resume(id: string): Promise<{ workspace: WorkspaceRecord; resumedCount: number }>;
  hibernate(id: string, opts?: { force?: boolean; source?: 'mutation' | 'idle' }): Promise<WorkspaceRecord>;
  /** Health sweep: OFFLINE container workspace → PROVISIONING, or FAILED on the 6th restart in 10 min. */
  autoRestart(id: string): Promise<'restarted' | 'failed' | 'skipped'>;
  /** At start-up: finish provisioning that a crashed or dead instance left claimed but unfinished. */
  resumePending(): Promise<void>;
  /** Stops background provisioning work (shutdown). */
  stop(): Promise<void>;
}

export function createLifecycleService(_deps: ServiceDeps & { tokens: TokenService; secrets: SecretService }): LifecycleService {
  const notYet = async (): Promise<never> => {
    throw new Error('lifecycle not implemented yet');
  };
  return {
    provisionCreated() {},
    cleanupRemoved() {},
    restart: notYet,
    pause: notYet,
    resume: notYet,
    hibernate: notYet,
    autoRestart: notYet,
    resumePending: async () => {},
    stop: async () => {},
  };
}
