// The workspace as services hand it out. Raw `RETURNING *` rows (snake_case) and Prisma rows
// (camelCase) are both mapped into this one shape.
import type { Workspace as PrismaWorkspace } from '../../generated/prisma/client.js';

export const WORKSPACE_STATUSES = [
  'PROVISIONING',
  'ONLINE',
  'DEGRADED',
  'OFFLINE',
  'FAILED',
  'PAUSED',
  'HIBERNATING',
  'HIBERNATED',
  'AWAITING_AGENT',
  'REMOVED',
] as const;
export type WorkspaceStatus = (typeof WORKSPACE_STATUSES)[number];

export const EXTERNAL_RUNTIME = 'external';

export type WorkspaceRecord = Omit<PrismaWorkspace, 'status' | 'agentCard'> & {
  status: WorkspaceStatus;
  agentCard: unknown;
};

export function isContainerWorkspace(w: Pick<WorkspaceRecord, 'runtime'>): boolean {
  return w.runtime !== EXTERNAL_RUNTIME;
}

/** Maps a raw `SELECT * FROM workspaces` / `RETURNING *` row. */
export function workspaceFromRow(r: Record<string, unknown>): WorkspaceRecord {
  return {
    id: r.id as string,
    name: r.name as string,
    role: (r.role as string | null) ?? null,
    tier: r.tier as number,
    runtime: r.runtime as string,
    image: (r.image as string | null) ?? null,
    status: r.status as WorkspaceStatus,
    url: (r.url as string | null) ?? null,
    parentId: (r.parent_id as string | null) ?? null,
    agentCard: r.agent_card ?? null,
    activeTasks: r.active_tasks as number,
    maxConcurrentTasks: r.max_concurrent_tasks as number,
    currentTask: (r.current_task as string | null) ?? null,
    lastErrorRate: Number(r.last_error_rate),
    lastSampleError: (r.last_sample_error as string | null) ?? null,
    uptimeSeconds: r.uptime_seconds as number,
    runtimeState: r.runtime_state as string,
    lastHeartbeatAt: (r.last_heartbeat_at as Date | null) ?? null,
    hibernationIdleMinutes: (r.hibernation_idle_minutes as number | null) ?? null,
    lastActiveAt: r.last_active_at as Date,
    generation: r.generation as number,
    provisionClaimedBy: (r.provision_claimed_by as string | null) ?? null,
    provisionClaimedAt: (r.provision_claimed_at as Date | null) ?? null,
    provisionStartedAt: (r.provision_started_at as Date | null) ?? null,
    restartWindowStartedAt: (r.restart_window_started_at as Date | null) ?? null,
    restartCount: r.restart_count as number,
    statusChangedAt: r.status_changed_at as Date,
    removedAt: (r.removed_at as Date | null) ?? null,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  };
}

export function workspaceFromPrisma(w: PrismaWorkspace): WorkspaceRecord {
  return { ...w, status: w.status as WorkspaceStatus, agentCard: w.agentCard ?? null };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids that are not UUIDs are unknown ids, never an error of their own (API.md). */
export function isUuid(id: unknown): id is string {
  return typeof id === 'string' && UUID_RE.test(id);
}
