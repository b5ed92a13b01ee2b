// Query.workspace and Query.workspaces.
import { builder } from '../schema/builder.js';
import { pageSize, toConnection } from '../schema/pagination.js';
import { WorkspaceRef, WorkspaceStatus } from '../schema/workspace.js';

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
    resolve: async (_root, args, ctx) => {
      const page = await ctx.services.workspaces.list({
        first: pageSize(args.first),
        after: args.after ?? null,
        status: args.status ?? null,
        parentId: args.parentId === null || args.parentId === undefined ? null : String(args.parentId),
        includeRemoved: args.includeRemoved ?? false,
      });
      const edges = page.workspaces.map((w) => ({ node: w.workspace, cursor: w.cursor }));
      return { ...toConnection(edges, page.hasNextPage), totalCount: page.totalCount };
    },
  }),
}));
