// Workspaces: reads, and the create / update / delete mutations. Lifecycle operations (restart, pause,
// resume, hibernate, provisioning) live in services/lifecycle.
import type { ServiceDeps } from '../deps.js';
import type { LifecycleService } from '../lifecycle/service.js';
import type { SecretService } from '../secrets/service.js';
import type { TokenService } from '../tokens/service.js';
import { readChildren, readWorkspacePage, readWorkspacesByIds, type WorkspaceListArgs, type WorkspaceListPage } from './queries.js';
import type { WorkspaceRecord } from './record.js';

export type { WorkspaceListArgs, WorkspaceListPage };

export interface WorkspaceService {
  /** In the order of `ids`; null for unknown and non-UUID ids (REMOVED rows are returned). */
  getByIds(ids: readonly string[]): Promise<(WorkspaceRecord | null)[]>;
  get(id: string): Promise<WorkspaceRecord | null>;
  /** Direct non-REMOVED children of all these parents, oldest first (DataLoader batch). */
  childrenOf(parentIds: readonly string[]): Promise<WorkspaceRecord[]>;
  /** Oldest first, keyset-paginated. BadUserInputError for a malformed cursor. */
  list(args: WorkspaceListArgs): Promise<WorkspaceListPage>;
}

export interface WorkspaceServiceDeps extends ServiceDeps {
  tokens: TokenService;
  secrets: SecretService;
  lifecycle: LifecycleService;
}

export function createWorkspaceService(deps: WorkspaceServiceDeps): WorkspaceService {
  const { db } = deps;
  return {
    getByIds: (ids) => readWorkspacesByIds(db, ids),
    get: async (id) => (await readWorkspacesByIds(db, [id]))[0] ?? null,
    childrenOf: (parentIds) => readChildren(db, parentIds),
    list: (args) => readWorkspacePage(db, args),
  };
}
