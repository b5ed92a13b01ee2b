// Query.workspace and Query.workspaces.
import { builder } from '../schema/builder.js';
import { pageWindow, toConnection } from '../schema/pagination.js';
import { selectedFieldsAt } from '../schema/lookahead.js';
import type { GraphQLContext } from '../schema/context.js';
import { childCountLoader } from '../schema/workspace-frontend.js';
import { WorkspaceOrder } from '../schema/workspace-order.js';
import { DEFAULT_ORDER } from '../services/workspaces/list-order.js';
import type { ListedWorkspace } from '../services/workspaces/service.js';
import { childrenLoader, liveTokensLoader, secretKeysLoader, workspaceByIdLoader, WorkspaceRef, WorkspaceStatus } from '../schema/workspace.js';

type ConnectionExtras = { totalCount: number; eventCursor: string };

const WorkspaceConnection = builder.connectionObject(
  {
    type: WorkspaceRef,
    name: 'WorkspaceConnection',
    fields: (t) => ({
      totalCount: t.int({ resolve: (c) => (c as unknown as ConnectionExtras).totalCount }),
      eventCursor: t.id({
        description: 'newest committed event id, read in the same snapshot as the page: subscribe after it to miss nothing',
        resolve: (c) => (c as unknown as ConnectionExtras).eventCursor,
      }),
    }),
  },
  { name: 'WorkspaceEdge' },
);

const idOrNull = (v: string | number | null | undefined) => (v === null || v === undefined ? null : String(v));

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
    description: 'default CREATED_AT ASC (oldest first); default 20, max 100; last/before read the last N before a cursor',
    args: {
      first: t.arg.int(),
      after: t.arg.string(),
      last: t.arg.int(),
      before: t.arg.string(),
      status: t.arg({ type: [WorkspaceStatus] }),
      parentId: t.arg.id(),
      includeRemoved: t.arg.boolean({ defaultValue: false }),
      search: t.arg.string({ description: 'name or role contains it, case-insensitively (1 to 200 characters)' }),
      orderBy: t.arg({ type: WorkspaceOrder }),
    },
    authScopes: { staff: true },
    resolve: async (_root, args, ctx, info) => {
      // The relations the query asks of the listed nodes are read with the page, in one statement.
      const asked = selectedFieldsAt(info, ['edges', 'node']);
      const relations = {
        parent: asked.has('parent'),
        children: asked.has('children'),
        tokens: asked.has('tokens'),
        secretKeys: asked.has('secretKeys'),
        childCount: asked.has('childCount'),
      };
      const top = selectedFieldsAt(info, []);
      const page = await ctx.services.workspaces.list(
        {
          ...pageWindow(args.first, args.last),
          after: args.after ?? null,
          before: args.before ?? null,
          status: args.status ?? null,
          parentId: idOrNull(args.parentId),
          includeRemoved: args.includeRemoved ?? false,
          search: args.search ?? null,
          orderBy: args.orderBy ? { field: args.orderBy.field, direction: args.orderBy.direction ?? DEFAULT_ORDER.direction } : DEFAULT_ORDER,
        },
        relations,
        { totalCount: top.has('totalCount'), eventCursor: top.has('eventCursor') },
      );
      for (const listed of page.workspaces) primeRelations(ctx, listed);
      const edges = page.workspaces.map((w) => ({ node: w.workspace, cursor: w.cursor }));
      const connection = toConnection(edges, page.hasNextPage, page.hasPreviousPage);
      return { ...connection, totalCount: page.totalCount, eventCursor: page.eventCursor };
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
  if (l.childCount !== undefined) childCountLoader(ctx).prime(id, l.childCount);
}
