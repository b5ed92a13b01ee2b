// orgTokens, createOrgToken, revokeOrgToken: the admin token only (API.md "Who may do what").
import { GraphQLError } from 'graphql';
import { builder } from '../schema/builder.js';
import { InvalidInputError, NotFoundError } from '../schema/errors.js';
import { CreateOrgTokenSuccess, OrgTokenRef, RevokeOrgTokenSuccess } from '../schema/org-token.js';

function rateLimited(retryAfterS: number): GraphQLError {
  return new GraphQLError('too many org tokens minted from this address; retry later', {
    extensions: { code: 'RATE_LIMITED', retryAfter: retryAfterS, http: { status: 429, headers: { 'Retry-After': String(retryAfterS) } } },
  });
}

builder.queryField('orgTokens', (t) =>
  t.field({
    type: [OrgTokenRef],
    description: 'live org tokens, newest first',
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => ctx.services.orgTokens.list(),
  }),
);

builder.mutationFields((t) => ({
  createOrgToken: t.field({
    type: CreateOrgTokenSuccess,
    errors: { types: [InvalidInputError], directResult: true, union: { name: 'CreateOrgTokenResult' } },
    args: { name: t.arg.string(), readOnly: t.arg.boolean({ defaultValue: false }) },
    authScopes: { admin: true },
    resolve: (_root, args, ctx) => {
      // Every call counts, refused ones included, so hammering does not reopen the window.
      const decision = ctx.services.orgTokens.admitMint(ctx.clientIp);
      if (!decision.allowed) throw rateLimited(decision.retryAfterS);
      return ctx.services.orgTokens.create(args.name ?? null, 'admin-token', args.readOnly ?? false);
    },
  }),
  revokeOrgToken: t.field({
    type: RevokeOrgTokenSuccess,
    errors: { types: [NotFoundError], directResult: true, union: { name: 'RevokeOrgTokenResult' } },
    args: { id: t.arg.id({ required: true }) },
    authScopes: { admin: true },
    resolve: async (_root, args, ctx) => ({ orgToken: await ctx.services.orgTokens.revoke(String(args.id)) }),
  }),
}));
