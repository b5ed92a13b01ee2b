// The normalized cache (graphcache). Entities are keyed by id; the rest is embedded in its parent.
// Subscriptions need no code to update what they carry: a status change or an activity push writes
// the Workspace entity and every view showing it re-renders. The updaters below add only what
// normalization cannot know.
import { cacheExchange, type Cache } from '@urql/exchange-graphcache';
import schema from '../generated/introspection.ts';
import { WorkspaceStatusFieldsFragmentDoc, type StatusChangesSubscription, type WorkspaceStatus } from '../generated/graphql.ts';
import type { EventLog } from './event-log.ts';

const EMBEDDED = [
  'Viewer',
  'WorkspaceConnection',
  'WorkspaceEdge',
  'WorkspaceEventConnection',
  'WorkspaceEventEdge',
  'PageInfo',
  'WorkspaceStatusCount',
  'WorkspaceStatusChange',
  'WorkspaceLogLine',
  'Container',
  'FieldError',
  'Platform',
  'Subsystem',
];

export function boardCacheExchange(log: EventLog) {
  const keys: Record<string, () => null> = {};
  for (const t of EMBEDDED) keys[t] = () => null;
  // Mutation results and errors are plain values, never entities.
  for (const t of schema.__schema.types) {
    if (/(Success|Error)$/.test(t.name)) keys[t.name] = () => null;
  }

  /** A read whose snapshot (eventCursor) is older than events already applied must not undo them. */
  const reapply = (cache: Cache, cursor: unknown, workspaceId?: string) => {
    if (typeof cursor !== 'string') return;
    for (const decided of log.since(cursor, workspaceId)) cache.writeFragment(WorkspaceStatusFieldsFragmentDoc, decided);
  };

  return cacheExchange({
    schema,
    keys,
    updates: {
      Subscription: {
        workspaceStatusChanged(result, _args, cache) {
          const { event, workspace } = (result as StatusChangesSubscription).workspaceStatusChanged;
          if (!workspace) cache.invalidate({ __typename: 'Workspace', id: event.workspaceId }); // purged
          log.record(event.id, {
            __typename: 'Workspace',
            id: event.workspaceId,
            status: (workspace?.status ?? event.status ?? 'REMOVED') as WorkspaceStatus,
            allowedActions: workspace?.allowedActions ?? [],
          });
        },
      },
      Query: {
        workspaces(result, _args, cache) {
          reapply(cache, (result.workspaces as { eventCursor?: unknown } | null)?.eventCursor);
        },
        workspace(result, args, cache) {
          reapply(cache, result.eventCursor, args.id as string);
        },
      },
      Mutation: {
        createWorkspaceToken(_result, args, cache) {
          cache.invalidate({ __typename: 'Workspace', id: args.workspaceId as string }, 'tokens');
        },
        revokeWorkspaceToken(_result, args, cache) {
          cache.invalidate({ __typename: 'Workspace', id: args.workspaceId as string }, 'tokens');
        },
      },
    },
  });
}
