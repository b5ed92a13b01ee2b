// createWorkspace, updateWorkspace, deleteWorkspace. Admin and writable org tokens; the service checks the rest in
// API.md's order (validation, existence, status rules).
import { builder } from '../schema/builder.js';
import { ConfirmationRequiredError, ConflictError, InvalidInputError, NotFoundError } from '../schema/errors.js';
import {
  CreateWorkspaceInput,
  CreateWorkspaceSuccess,
  DeleteWorkspaceSuccess,
  UpdateWorkspaceInput,
  UpdateWorkspaceSuccess,
} from '../schema/workspace-mutation-types.js';

builder.mutationFields((t) => ({
  createWorkspace: t.field({
    type: CreateWorkspaceSuccess,
    errors: { types: [InvalidInputError, NotFoundError], directResult: true, union: { name: 'CreateWorkspaceResult' } },
    args: { input: t.arg({ type: CreateWorkspaceInput, required: true }) },
    authScopes: { operator: true },
    resolve: (_root, { input }, ctx) =>
      ctx.services.workspaces.create({ ...input, parentId: input.parentId === undefined ? undefined : (input.parentId as string | null) }),
  }),
  updateWorkspace: t.field({
    type: UpdateWorkspaceSuccess,
    errors: {
      types: [InvalidInputError, NotFoundError, ConflictError],
      directResult: true,
      union: { name: 'UpdateWorkspaceResult' },
    },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateWorkspaceInput, required: true }) },
    authScopes: { operator: true },
    resolve: (_root, { id, input }, ctx) =>
      ctx.services.workspaces.update(String(id), { ...input, parentId: input.parentId as string | null | undefined }),
  }),
  deleteWorkspace: t.field({
    type: DeleteWorkspaceSuccess,
    errors: { types: [NotFoundError, ConfirmationRequiredError], directResult: true, union: { name: 'DeleteWorkspaceResult' } },
    args: {
      id: t.arg.id({ required: true }),
      confirm: t.arg.boolean({ defaultValue: false }),
      purge: t.arg.boolean({ defaultValue: false }),
    },
    authScopes: { operator: true },
    resolve: (_root, args, ctx) =>
      ctx.services.workspaces.delete(String(args.id), { confirm: args.confirm ?? false, purge: args.purge ?? false }),
  }),
}));
