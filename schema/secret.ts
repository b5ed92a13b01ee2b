import type { WorkspaceRecord } from '../services/workspaces/record.js';
import { builder } from './builder.js';
import { WorkspaceRef } from './workspace.js';

export const SetWorkspaceSecretSuccess = builder.objectRef<{ workspace: WorkspaceRecord }>('SetWorkspaceSecretSuccess').implement({
  fields: (t) => ({ workspace: t.field({ type: WorkspaceRef, resolve: (r) => r.workspace }) }),
});

export const DeleteWorkspaceSecretSuccess = builder.objectRef<{ workspace: WorkspaceRecord }>('DeleteWorkspaceSecretSuccess').implement({
  fields: (t) => ({ workspace: t.field({ type: WorkspaceRef, resolve: (r) => r.workspace }) }),
});
