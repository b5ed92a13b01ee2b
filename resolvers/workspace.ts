// Query.workspace and Query.workspaces.
import { builder } from '../schema/builder.js';
import { pageSize, toConnection } from '../schema/pagination.js';
import { selectedFieldsAt } from '../schema/lookahead.js';
import type { GraphQLContext } from '../schema/context.js';
import type { ListedWorkspace } from '../services/workspaces/service.js';
import { childrenLoader, liveTokensLoader, secretKeysLoader, workspaceByIdLoader, WorkspaceRef, WorkspaceStatus } from '../schema/workspace.js';

const WorkspaceConnection = builder.connectionObject(
  {
    type: WorkspaceRef,
    name: 'WorkspaceConnection',
    fields: (t) => ({ totalCount: t.int({ resolve: (c) => (c as unknown as { totalCount: number }).totalCount }) }),
  },
  { name: 'WorkspaceEdge' },
);

builder.queryFields((t) => ({
  workspace: t.field({
    type: WorkspaceRef,
    nullable: true,
    description: 'null when unknown (REMOVED rows are returned)',
    args: { id: t.arg.id({ required: true }) },
    // A workspace token may read only its own id: any other id is FORBIDDEN, known or not.
    authScopes: (_root, args) => ({ workspaceReader: String(args.id) }),
    resolve: (_root, args, ctx) => ctx.services.workspaces.get(String(args.id)),
  }),
  workspaces: t.field({
    type: WorkspaceConnection,
    description: 'oldest first; default 20, max 100',
    args: {
      first: t.arg.int(),
      after: t.arg.string(),
      status: t.arg({ type: [WorkspaceStatus] }),
      parentId: t.arg.id(),
      includeRemoved: t.arg.boolean({ defaultValue: false }),
    },
    authScopes: { staff: true },
    resolve: async (_root, args, ctx, info) => {
      // The relations the query asks of the listed nodes are read with the page, in one statement.
      const asked = selectedFieldsAt(info, ['edges', 'node']);
      const relations = { parent: asked.has('parent'), children: asked.has('children'), tokens: asked.has('tokens'), secretKeys: asked.has('secretKeys') };
      const page = await ctx.services.workspaces.list({
        first: pageSize(args.first),
        after: args.after ?? null,
        status: args.status ?? null,
        parentId: args.parentId === null || args.parentId === undefined ? null : String(args.parentId),
        includeRemoved: args.includeRemoved ?? false,
      }, relations);
      for (const listed of page.workspaces) primeRelations(ctx, listed);
      const edges = page.workspaces.map((w) => ({ node: w.workspace, cursor: w.cursor }));
      return { ...toConnection(edges, page.hasNextPage), totalCount: page.totalCount };
    },
  }),
}));

/** Hands the relations read with the page to the loaders the Workspace fields read through. */
function primeRelations(ctx: GraphQLContext, l: ListedWorkspace): void {
  const id = l.workspace.id;
  if (l.parent !== undefined && l.workspace.parentId) workspaceByIdLoader(ctx).prime(l.workspace.parentId, l.parent);
  if (l.children) childrenLoader(ctx).prime(id, l.children);
  if (l.tokens) liveTokensLoader(ctx).prime(id, l.tokens);
  if (l.secretKeys) secretKeysLoader(ctx).prime(id, l.secretKeys.map((key) => ({ workspaceId: id, key })));
}
