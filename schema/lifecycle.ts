// Inputs and success types of restartWorkspace, pauseWorkspace, resumeWorkspace, hibernateWorkspace.
import type { WorkspaceRecord } from '../services/workspaces/record.js';
import { builder } from './builder.js';
import { WorkspaceRef } from './workspace.js';

export const RestartWorkspaceInput = builder.inputType('RestartWorkspaceInput', {
  fields: (t) => ({
    resetConfig: t.boolean({ description: 'wipe and recreate the config volume before the new container starts' }),
  }),
});

export const RestartWorkspaceSuccess = builder.objectRef<{ workspace: WorkspaceRecord }>('RestartWorkspaceSuccess').implement({
  fields: (t) => ({
    workspace: t.field({ type: WorkspaceRef, description: 'status PROVISIONING when it returns', resolve: (r) => r.workspace }),
  }),
});

export const PauseWorkspaceSuccess = builder
  .objectRef<{ workspace: WorkspaceRecord; pausedCount: number }>('PauseWorkspaceSuccess')
  .implement({
    fields: (t) => ({
      workspace: t.field({ type: WorkspaceRef, resolve: (r) => r.workspace }),
      pausedCount: t.exposeInt('pausedCount'),
    }),
  });

export const ResumeWorkspaceSuccess = builder
  .objectRef<{ workspace: WorkspaceRecord; resumedCount: number }>('ResumeWorkspaceSuccess')
  .implement({
    fields: (t) => ({
      workspace: t.field({ type: WorkspaceRef, resolve: (r) => r.workspace }),
      resumedCount: t.exposeInt('resumedCount'),
    }),
  });

export const HibernateWorkspaceSuccess = builder.objectRef<{ workspace: WorkspaceRecord }>('HibernateWorkspaceSuccess').implement({
  fields: (t) => ({ workspace: t.field({ type: WorkspaceRef, resolve: (r) => r.workspace }) }),
});
