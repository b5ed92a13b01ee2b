// Query.workspaceCounts: the fleet overview by status (staff only: a workspace token is FORBIDDEN).
import { builder } from '../schema/builder.js';
import { WorkspaceStatusCount } from '../schema/workspace-status.js';

builder.queryField('workspaceCounts', (t) =>
  t.field({
    type: [WorkspaceStatusCount],
    description: 'every status but REMOVED, in enum order, zeros included; with parentId, its direct children',
    args: { parentId: t.arg.id() },
    authScopes: { staff: true },
    resolve: (_root, args, ctx) => ctx.services.workspaces.counts(args.parentId === null || args.parentId === undefined ? null : String(args.parentId)),
  }),
);
