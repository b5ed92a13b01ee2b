// restartWorkspace, pauseWorkspace, resumeWorkspace, hibernateWorkspace. Admin and writable org tokens; the lifecycle
// service checks the rest in API.md's order (existence, status rules, then the container runtime).
import { builder } from '../schema/builder.js';
import { ActiveTasksError, ConflictError, NotFoundError, ParentPausedError, RuntimeUnavailableError } from '../schema/errors.js';
import {
  HibernateWorkspaceSuccess,
  PauseWorkspaceSuccess,
  RestartWorkspaceInput,
  RestartWorkspaceSuccess,
  ResumeWorkspaceSuccess,
} from '../schema/lifecycle.js';

builder.mutationFields((t) => ({
  restartWorkspace: t.field({
    type: RestartWorkspaceSuccess,
    errors: {
      types: [NotFoundError, ConflictError, ParentPausedError, RuntimeUnavailableError],
      directResult: true,
      union: { name: 'RestartWorkspaceResult' },
    },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: RestartWorkspaceInput }) },
    authScopes: { operator: true },
    resolve: async (_root, { id, input }, ctx) => ({
      workspace: await ctx.services.lifecycle.restart(String(id), { resetConfig: input?.resetConfig ?? false }),
    }),
  }),
  pauseWorkspace: t.field({
    type: PauseWorkspaceSuccess,
    errors: { types: [NotFoundError, ConflictError, RuntimeUnavailableError], directResult: true, union: { name: 'PauseWorkspaceResult' } },
    args: { id: t.arg.id({ required: true }) },
    authScopes: { operator: true },
    resolve: (_root, { id }, ctx) => ctx.services.lifecycle.pause(String(id)),
  }),
  resumeWorkspace: t.field({
    type: ResumeWorkspaceSuccess,
    errors: {
      types: [NotFoundError, ConflictError, ParentPausedError, RuntimeUnavailableError],
      directResult: true,
      union: { name: 'ResumeWorkspaceResult' },
    },
    args: { id: t.arg.id({ required: true }) },
    authScopes: { operator: true },
    resolve: (_root, { id }, ctx) => ctx.services.lifecycle.resume(String(id)),
  }),
  hibernateWorkspace: t.field({
    type: HibernateWorkspaceSuccess,
    errors: {
      types: [NotFoundError, ConflictError, ActiveTasksError, RuntimeUnavailableError],
      directResult: true,
      union: { name: 'HibernateWorkspaceResult' },
    },
    args: { id: t.arg.id({ required: true }), force: t.arg.boolean({ defaultValue: false }) },
    authScopes: { operator: true },
    resolve: async (_root, { id, force }, ctx) => ({
      workspace: await ctx.services.lifecycle.hibernate(String(id), { force: force ?? false, source: 'mutation' }),
    }),
  }),
}));
