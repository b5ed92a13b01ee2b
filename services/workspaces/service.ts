// Workspaces: reads, and the create / update / delete mutations. Lifecycle operations (restart, pause,
// resume, hibernate, provisioning) live in services/lifecycle.
import type { ServiceDeps } from '../deps.js';
import type { LifecycleService } from '../lifecycle/service.js';
import type { SecretService } from '../secrets/service.js';
import type { TokenService } from '../tokens/service.js';
import { readChildren, readWorkspacesByIds } from './queries.js';
import {
  readWorkspacePage,
  type ListedWorkspace,
  type WorkspaceListArgs,
  type WorkspaceListExtras,
  type WorkspaceListPage,
  type WorkspaceListRelations,
} from './list-page.js';
import type { WorkspaceRecord } from './record.js';
import { readChildCounts, readStatusCounts, readUnderPausedAncestor, type StatusCount } from './fleet-reads.js';
import { createWorkspace, type CreatedWorkspace } from './create.js';
import { deleteWorkspace, type DeletedWorkspaces } from './delete.js';
import { updateWorkspace, type UpdatedWorkspace } from './update.js';
import type { CreateWorkspaceInput, UpdateWorkspaceInput } from './validation.js';

export type { StatusCount };
export type { CreateWorkspaceInput, CreatedWorkspace, DeletedWorkspaces, UpdateWorkspaceInput, UpdatedWorkspace, ListedWorkspace, WorkspaceListArgs, WorkspaceListExtras, WorkspaceListPage, WorkspaceListRelations };

export interface WorkspaceService {
  /** In the order of `ids`; null for unknown and non-UUID ids (REMOVED rows are returned). */
  getByIds(ids: readonly string[]): Promise<(WorkspaceRecord | null)[]>;
  get(id: string): Promise<WorkspaceRecord | null>;
  /** Direct non-REMOVED children of all these parents, oldest first (DataLoader batch). */
  childrenOf(parentIds: readonly string[]): Promise<WorkspaceRecord[]>;
  /**
   * Keyset-paginated in args.orderBy, with the relations and extras asked for read in the same
   * statement (one snapshot). BadUserInputError for a malformed or foreign cursor or a bad search.
   */
  list(args: WorkspaceListArgs, relations?: WorkspaceListRelations, extras?: WorkspaceListExtras): Promise<WorkspaceListPage>;
  /** Non-REMOVED direct children of each parent, in the order of `parentIds` (DataLoader batch). */
  childCounts(parentIds: readonly string[]): Promise<number[]>;
  /** Whether each workspace has a PAUSED ancestor, in the order of `ids` (DataLoader batch). */
  underPausedAncestor(ids: readonly string[]): Promise<boolean[]>;
  /** Every status but REMOVED, in enum order, zeros included; with a parent, its direct children only. */
  counts(parentId: string | null): Promise<StatusCount[]>;
  /** InvalidInputError, NotFoundError (unknown or REMOVED parent). Provisioning starts after commit. */
  create(input: CreateWorkspaceInput): Promise<CreatedWorkspace>;
  /** InvalidInputError, NotFoundError (workspace or parent), ConflictError (cycle, REMOVED parent). */
  update(id: string, input: UpdateWorkspaceInput): Promise<UpdatedWorkspace>;
  /** NotFoundError, ConfirmationRequiredError (children without confirm). */
  delete(id: string, opts: { confirm: boolean; purge: boolean }): Promise<DeletedWorkspaces>;
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
    list: (args, relations, extras) => readWorkspacePage(db, args, relations, extras),
    childCounts: (parentIds) => readChildCounts(db, parentIds),
    underPausedAncestor: (ids) => readUnderPausedAncestor(db, ids),
    counts: (parentId) => readStatusCounts(db, parentId),
    create: (input) => createWorkspace(deps, input),
    update: (id, input) => updateWorkspace(deps, id, input),
    delete: (id, opts) => deleteWorkspace(deps, id, opts),
  };
}
