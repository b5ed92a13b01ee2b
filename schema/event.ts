// WorkspaceEvent and its newest-first connection (shared by Query.events and Workspace.events).
import type { EventRecord } from '../services/events/log.js';
import { builder } from './builder.js';
import { WorkspaceStatus } from './workspace-status.js';

export const WorkspaceEventRef = builder.objectRef<EventRecord>('WorkspaceEvent').implement({
  fields: (t) => ({
    id: t.id({ description: 'Strictly increasing; a cursor for afterEventId.', resolve: (e) => e.id.toString() }),
    type: t.exposeString('type'),
    workspaceId: t.exposeID('workspaceId'),
    status: t.field({ type: WorkspaceStatus, nullable: true, resolve: (e) => e.status }),
    previousStatus: t.field({ type: WorkspaceStatus, nullable: true, resolve: (e) => e.previousStatus }),
    payload: t.field({ type: 'JSON', resolve: (e) => e.payload ?? {} }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const WorkspaceEventConnection = builder.connectionObject(
  { type: WorkspaceEventRef, name: 'WorkspaceEventConnection' },
  { name: 'WorkspaceEventEdge' },
);

/** An event's cursor is its id (API.md). */
export const eventEdges = (events: EventRecord[]) => events.map((e) => ({ node: e, cursor: e.id.toString() }));
