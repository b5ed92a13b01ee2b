// Query.node and Query.nodes (Relay refetching): what this viewer may read, else null; never FORBIDDEN.
import { builder } from '../schema/builder.js';
import { NodeRef } from '../schema/node.js';

builder.queryFields((t) => ({
  node: t.field({
    type: NodeRef,
    nullable: true,
    description: 'a Workspace, WorkspaceToken or OrgToken this viewer may read; else null',
    args: { id: t.arg.id({ required: true }) },
    authScopes: { authenticated: true },
    resolve: async (_root, args, ctx) => (await ctx.services.nodes.visible(ctx.viewer, [String(args.id)]))[0] ?? null,
  }),
  nodes: t.field({
    type: [NodeRef],
    nullable: { list: false, items: true },
    description: 'the same, in the given order; at most 100 ids',
    args: { ids: t.arg.idList({ required: true }) },
    authScopes: { authenticated: true },
    resolve: (_root, args, ctx) => ctx.services.nodes.visible(ctx.viewer, args.ids.map(String)),
  }),
}));
