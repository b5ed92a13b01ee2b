// createWorkspace: one transaction writes the row (PROVISIONING, or AWAITING_AGENT for external), its
// secrets, the external agent's token and the creation events; provisioning starts after commit.
import type { Tx } from '../db/client.js';
import { NotFoundError } from '../errors.js';
import { appendEvents, statusEventType, type NewEvent } from '../events/log.js';
import { EXTERNAL_RUNTIME, isUuid, workspaceFromRow, type WorkspaceRecord, type WorkspaceStatus } from './record.js';
import type { WorkspaceServiceDeps } from './service.js';
import { lockParent } from './tree.js';
import { resolveImage, validateCreateInput, type CreateWorkspaceInput, type ValidCreateInput } from './validation.js';

export interface CreatedWorkspace {
  workspace: WorkspaceRecord;
  /** The external agent's token, shown once; null for container workspaces. */
  token: string | null;
}

async function insertWorkspace(tx: Tx, v: ValidCreateInput, status: WorkspaceStatus, image: string | null): Promise<WorkspaceRecord> {
  // Container workspaces start at generation 1: the provisioning that createWorkspace starts.
  const generation = status === 'PROVISIONING' ? 1 : 0;
  const rows = await tx.sql.$queryRaw<Record<string, unknown>[]>`
    /* insertWorkspace */
    INSERT INTO workspaces (name, role, tier, runtime, image, status, url, parent_id, max_concurrent_tasks,
                            hibernation_idle_minutes, generation)
    VALUES (${v.name}, ${v.role}, ${v.tier}, ${v.runtime}, ${image}, ${status}::workspace_status, ${v.url},
            ${v.parentId}::uuid, ${v.maxConcurrentTasks}, ${v.hibernationIdleMinutes}::int, ${generation})
    RETURNING *`;
  return workspaceFromRow(rows[0]!);
}

export async function createWorkspace(deps: WorkspaceServiceDeps, input: CreateWorkspaceInput): Promise<CreatedWorkspace> {
  const v = validateCreateInput(input);
  if (v.parentId !== null && !isUuid(v.parentId)) throw new NotFoundError('parent workspace not found');
  const external = v.runtime === EXTERNAL_RUNTIME;
  const status: WorkspaceStatus = external ? 'AWAITING_AGENT' : 'PROVISIONING';
  const image = resolveImage(v.runtime, v.image, deps.config);

  const created = await deps.db.tx(async (tx) => {
    if (v.parentId !== null) {
      // A REMOVED parent counts as unknown here (API.md: an unknown parentId is NotFoundError, and a
      // REMOVED workspace is NotFoundError for every mutation). The share lock keeps a concurrent
      // delete from missing the new child.
      const parent = await lockParent(tx, v.parentId);
      if (!parent || parent.status === 'REMOVED') throw new NotFoundError('parent workspace not found');
    }
    const workspace = await insertWorkspace(tx, v, status, image);
    await deps.secrets.insertMany(tx, workspace.id, v.secrets);
    const events: NewEvent[] = [
      {
        workspaceId: workspace.id,
        type: statusEventType(status),
        status,
        previousStatus: null,
        payload: { source: 'create', name: workspace.name, runtime: workspace.runtime },
      },
    ];
    let token: string | null = null;
    if (external) {
      const issued = await deps.tokens.issueForProvisioning(tx, workspace.id, 'create');
      token = issued.token;
      events.push(issued.event);
    }
    await appendEvents(tx, events);
    return { workspace, token };
  });

  // After commit: the provisioner claims generation 1 (or, without a runtime, records FAILED).
  if (!external) deps.lifecycle.provisionCreated(created.workspace);
  return created;
}
