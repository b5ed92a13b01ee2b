// setWorkspaceSecret and deleteWorkspaceSecret (admin and writable org tokens). Values are write-only.
import { builder } from '../schema/builder.js';
import { InvalidInputError, NotFoundError } from '../schema/errors.js';
import { DeleteWorkspaceSecretSuccess, SetWorkspaceSecretSuccess } from '../schema/secret.js';

builder.mutationFields((t) => ({
  setWorkspaceSecret: t.field({
    type: SetWorkspaceSecretSuccess,
    errors: { types: [NotFoundError, InvalidInputError], directResult: true, union: { name: 'SetWorkspaceSecretResult' } },
    args: { workspaceId: t.arg.id({ required: true }), key: t.arg.string({ required: true }), value: t.arg.string({ required: true }) },
    authScopes: { operator: true },
    resolve: async (_root, args, ctx) => ({
      workspace: await ctx.services.secrets.set(String(args.workspaceId), args.key, args.value),
    }),
  }),
  deleteWorkspaceSecret: t.field({
    type: DeleteWorkspaceSecretSuccess,
    errors: { types: [NotFoundError], directResult: true, union: { name: 'DeleteWorkspaceSecretResult' } },
    args: { workspaceId: t.arg.id({ required: true }), key: t.arg.string({ required: true }) },
    authScopes: { operator: true },
    resolve: async (_root, args, ctx) => ({
      workspace: await ctx.services.secrets.delete(String(args.workspaceId), args.key),
    }),
  }),
}));
