// updateWorkspace: absent fields are unchanged. Re-parenting takes the tree lock, so the cycle check
// and the move see the same tree. Writes WORKSPACE_UPDATED (not a status change) when something changed.
import { ConflictError, NotFoundError } from '../errors.js';
import { appendEvents } from '../events/log.js';
import { isContainerWorkspace, isUuid, workspaceFromRow, type WorkspaceRecord } from './record.js';
import type { WorkspaceServiceDeps } from './service.js';
import { lockParent, lockTree, wouldCreateCycle } from './tree.js';
import { validateUpdateInput, type UpdateWorkspaceInput } from './validation.js';

export interface UpdatedWorkspace {
  workspace: WorkspaceRecord;
  needsRestart: boolean;
}

const COMPARED = ['name', 'role', 'tier', 'parentId', 'maxConcurrentTasks', 'hibernationIdleMinutes'] as const;

export async function updateWorkspace(deps: WorkspaceServiceDeps, id: string, input: UpdateWorkspaceInput): Promise<UpdatedWorkspace> {
  const v = validateUpdateInput(input);
  if (!isUuid(id)) throw new NotFoundError();
  if (v.parentId !== undefined && v.parentId !== null && !isUuid(v.parentId)) throw new NotFoundError('parent workspace not found');
  const has = (k: keyof typeof v) => v[k] !== undefined;

  return deps.db.tx(async (tx) => {
    if (v.parentId !== undefined && v.parentId !== null) {
      await lockTree(tx);
      const parent = await lockParent(tx, v.parentId);
      if (!parent) throw new NotFoundError('parent workspace not found');
      const self = await lockParent(tx, id);
      if (!self || self.status === 'REMOVED') throw new NotFoundError();
      if (parent.status === 'REMOVED') throw new ConflictError('the new parent workspace is REMOVED');
      if (await wouldCreateCycle(tx, id, v.parentId)) throw new ConflictError('the new parent is this workspace or one of its descendants');
    }
    const rows = await tx.sql.$queryRaw<Record<string, unknown>[]>`
      /* updateWorkspace */
      UPDATE workspaces w SET
        name = CASE WHEN ${has('name')} THEN ${v.name ?? null}::text ELSE w.name END,
        role = CASE WHEN ${has('role')} THEN ${v.role ?? null}::text ELSE w.role END,
        tier = CASE WHEN ${has('tier')} THEN ${v.tier ?? null}::int ELSE w.tier END,
        parent_id = CASE WHEN ${has('parentId')} THEN ${v.parentId ?? null}::uuid ELSE w.parent_id END,
        max_concurrent_tasks = CASE WHEN ${has('maxConcurrentTasks')} THEN ${v.maxConcurrentTasks ?? null}::int ELSE w.max_concurrent_tasks END,
        hibernation_idle_minutes = CASE WHEN ${has('hibernationIdleMinutes')} THEN ${v.hibernationIdleMinutes ?? null}::int
                                        ELSE w.hibernation_idle_minutes END,
        updated_at = now()
      FROM (SELECT * FROM workspaces WHERE id = ${id}::uuid AND status <> 'REMOVED' FOR UPDATE) old
      WHERE w.id = old.id
      RETURNING w.*, old.name AS old_name, old.role AS old_role, old.tier AS old_tier, old.parent_id AS old_parent_id,
                old.max_concurrent_tasks AS old_max_concurrent_tasks, old.hibernation_idle_minutes AS old_hibernation_idle_minutes`;
    if (!rows[0]) throw new NotFoundError();
    const r = rows[0];
    const workspace = workspaceFromRow(r);
    const before: Record<(typeof COMPARED)[number], unknown> = {
      name: r.old_name,
      role: r.old_role ?? null,
      tier: r.old_tier,
      parentId: r.old_parent_id ?? null,
      maxConcurrentTasks: r.old_max_concurrent_tasks,
      hibernationIdleMinutes: r.old_hibernation_idle_minutes ?? null,
    };
    const changed = COMPARED.filter((k) => has(k) && before[k] !== workspace[k]);
    if (changed.length > 0) {
      await appendEvents(tx, [{ workspaceId: id, type: 'WORKSPACE_UPDATED', payload: { changed } }]);
    }
    return { workspace, needsRestart: changed.includes('tier') && isContainerWorkspace(workspace) };
  });
}
