// Inputs and success types of createWorkspace / updateWorkspace / deleteWorkspace.
import type { CreatedWorkspace, DeletedWorkspaces, UpdatedWorkspace } from '../services/workspaces/service.js';
import { builder } from './builder.js';
import { WorkspaceRef } from './workspace.js';

export const SecretInput = builder.inputType('SecretInput', {
  fields: (t) => ({ key: t.string({ required: true }), value: t.string({ required: true }) }),
});

export const CreateWorkspaceInput = builder.inputType('CreateWorkspaceInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    role: t.string(),
    tier: t.int(),
    runtime: t.string(),
    image: t.string(),
    parentId: t.id(),
    maxConcurrentTasks: t.int(),
    hibernationIdleMinutes: t.int(),
    secrets: t.field({ type: [SecretInput] }),
    url: t.string(),
  }),
});

export const UpdateWorkspaceInput = builder.inputType('UpdateWorkspaceInput', {
  fields: (t) => ({
    name: t.string(),
    role: t.string(),
    tier: t.int(),
    parentId: t.id(),
    maxConcurrentTasks: t.int(),
    hibernationIdleMinutes: t.int(),
  }),
});

export const CreateWorkspaceSuccess = builder.objectRef<CreatedWorkspace>('CreateWorkspaceSuccess').implement({
  fields: (t) => ({
    workspace: t.field({ type: WorkspaceRef, resolve: (r) => r.workspace }),
    token: t.exposeString('token', { nullable: true, description: 'only for runtime "external", shown once' }),
  }),
});

export const UpdateWorkspaceSuccess = builder.objectRef<UpdatedWorkspace>('UpdateWorkspaceSuccess').implement({
  fields: (t) => ({
    workspace: t.field({ type: WorkspaceRef, resolve: (r) => r.workspace }),
    needsRestart: t.exposeBoolean('needsRestart'),
  }),
});

export const DeleteWorkspaceSuccess = builder.objectRef<DeletedWorkspaces>('DeleteWorkspaceSuccess').implement({
  fields: (t) => ({ removedCount: t.exposeInt('removedCount'), purged: t.exposeBoolean('purged') }),
});
