// Workspace.allowedActions (API.md "Frontends"): the lifecycle mutations this viewer may call and
// whose existence and status rules accept the workspace now, in enum order. It mirrors the checks of
// services/lifecycle (restart.ts, pause.ts, resume.ts, hibernate.ts) without touching the runtime;
// active tasks do not remove HIBERNATE (force decides) and children do not remove DELETE (confirm
// decides). test/integration/allowed-actions.test.ts holds each action to its mutation's answer.
import { canOperate, type Viewer } from '../auth/viewer.js';
import { EXTERNAL_RUNTIME, type WorkspaceRecord } from './record.js';

export const WORKSPACE_ACTIONS = ['RESTART', 'PAUSE', 'RESUME', 'HIBERNATE', 'DELETE'] as const;
export type WorkspaceAction = (typeof WORKSPACE_ACTIONS)[number];

/** Whether the answer depends on the workspace's ancestors (RESTART and RESUME refuse under a PAUSED one). */
export function needsAncestorCheck(w: Pick<WorkspaceRecord, 'parentId' | 'status'>): boolean {
  return w.parentId !== null && w.status !== 'REMOVED';
}

export function allowedActions(
  viewer: Viewer,
  w: Pick<WorkspaceRecord, 'status' | 'runtime'>,
  underPausedAncestor: boolean,
): WorkspaceAction[] {
  if (!canOperate(viewer) || w.status === 'REMOVED') return [];
  const external = w.runtime === EXTERNAL_RUNTIME;
  const allowed: Record<WorkspaceAction, boolean> = {
    RESTART: w.status !== 'PAUSED' && !underPausedAncestor && !external,
    PAUSE: w.status !== 'PAUSED',
    RESUME: (w.status === 'PAUSED' || w.status === 'HIBERNATED') && !underPausedAncestor,
    HIBERNATE: (w.status === 'ONLINE' || w.status === 'DEGRADED') && !external,
    DELETE: true,
  };
  return WORKSPACE_ACTIONS.filter((a) => allowed[a]);
}
