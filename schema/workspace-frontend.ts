// Workspace fields a frontend needs beside the record: childCount and allowedActions. Both read through
// per-request DataLoaders (one query per response, however many workspaces it lists); a list primes
// the child counts from its own statement (resolvers/workspace.ts).
import { allowedActions, needsAncestorCheck, WORKSPACE_ACTIONS } from '../services/workspaces/allowed-actions.js';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { loader } from './loaders.js';
import { WorkspaceRef } from './workspace.js';

export const WorkspaceAction = builder.enumType('WorkspaceAction', { values: WORKSPACE_ACTIONS });

export const childCountLoader = (ctx: GraphQLContext) =>
  loader(ctx, 'childCount', (ids: readonly string[]) => ctx.services.workspaces.childCounts(ids));
const pausedAncestorLoader = (ctx: GraphQLContext) =>
  loader(ctx, 'underPausedAncestor', (ids: readonly string[]) => ctx.services.workspaces.underPausedAncestor(ids));

builder.objectFields(WorkspaceRef, (t) => ({
  childCount: t.int({
    description: 'how many direct children are not REMOVED (the same rule as children)',
    // A workspace token sees no children, so it counts none.
    resolve: (w, _args, ctx) => (ctx.viewer.kind === 'WORKSPACE' ? 0 : childCountLoader(ctx).load(w.id)),
  }),
  allowedActions: t.field({
    type: [WorkspaceAction],
    description: 'lifecycle mutations this viewer may call now that the status rules accept, in enum order',
    resolve: async (w, _args, ctx) => {
      const none = allowedActions(ctx.viewer, w, false).length === 0;
      const underPaused = !none && needsAncestorCheck(w) ? await pausedAncestorLoader(ctx).load(w.id) : false;
      return allowedActions(ctx.viewer, w, underPaused);
    },
  }),
}));
