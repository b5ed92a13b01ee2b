// createWorkspaceToken and revokeWorkspaceToken (admin and writable org tokens).
import { builder } from '../schema/builder.js';
import { NotFoundError, TokenLimitError } from '../schema/errors.js';
import { CreateWorkspaceTokenSuccess, RevokeWorkspaceTokenSuccess } from '../schema/token.js';

builder.mutationFields((t) => ({
  createWorkspaceToken: t.field({
    type: CreateWorkspaceTokenSuccess,
    errors: { types: [NotFoundError, TokenLimitError], directResult: true, union: { name: 'CreateWorkspaceTokenResult' } },
    args: { workspaceId: t.arg.id({ required: true }) },
    authScopes: { operator: true },
    resolve: (_root, args, ctx) => ctx.services.tokens.create(String(args.workspaceId)),
  }),
  revokeWorkspaceToken: t.field({
    type: RevokeWorkspaceTokenSuccess,
    errors: { types: [NotFoundError], directResult: true, union: { name: 'RevokeWorkspaceTokenResult' } },
    args: { workspaceId: t.arg.id({ required: true }), tokenId: t.arg.id({ required: true }) },
    authScopes: { operator: true },
    resolve: async (_root, args, ctx) => ({
      tokenInfo: await ctx.services.tokens.revoke(String(args.workspaceId), String(args.tokenId)),
    }),
  }),
}));
