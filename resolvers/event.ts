// Query.events (newest first) and Query.eventCursor.
import { parseEventId } from '../services/events/cursor.js';
import type { EventRecord } from '../services/events/log.js';
import { isUuid } from '../services/workspaces/record.js';
import { builder } from '../schema/builder.js';
import { eventEdges, WorkspaceEventConnection } from '../schema/event.js';
import { pageSize, toConnection } from '../schema/pagination.js';

builder.queryFields((t) => ({
  events: t.field({
    type: WorkspaceEventConnection,
    description: 'newest first; `after` = older than that event id',
    args: { workspaceId: t.arg.id(), first: t.arg.int(), after: t.arg.string() },
    // Staff read any workspace's events; a workspace token only its own (without workspaceId: its own).
    authScopes: (_root, args, ctx) =>
      args.workspaceId === null || args.workspaceId === undefined
        ? { authenticated: true }
        : { workspaceReader: String(args.workspaceId) },
    resolve: async (_root, args, ctx) => {
      const first = pageSize(args.first);
      const after = args.after === null || args.after === undefined ? null : parseEventId(args.after);
      const requested = args.workspaceId === null || args.workspaceId === undefined ? null : String(args.workspaceId);
      const workspaceId = ctx.viewer.kind === 'WORKSPACE' ? ctx.viewer.workspaceId : requested;
      // An unknown (non-UUID) id is an empty connection, never an error of its own.
      if (workspaceId !== null && !isUuid(workspaceId)) return toConnection<EventRecord>([], false);
      const page = await ctx.services.events.page({ workspaceId, first, after });
      return toConnection(eventEdges(page.events), page.hasNextPage);
    },
  }),
  eventCursor: t.id({
    description: 'id of the newest committed event (the point to subscribe after)',
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => ctx.services.events.cursor(),
  }),
}));
