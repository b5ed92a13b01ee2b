// WorkspaceStatusChange: what workspaceStatusChanged delivers. The event comes from the fan-out's
// shared read of the log; the workspace is loaded when the change is delivered (through the
// per-request DataLoader, so every subscriber sharing one execution shares one query).
import { GraphQLError } from 'graphql';
import { SubscriptionError, type Delivery } from '../services/events/subscriptions.js';
import { builder } from './builder.js';
import { WorkspaceEventRef } from './event.js';
import { loader } from './loaders.js';
import { WorkspaceRef } from './workspace.js';

export const WorkspaceStatusChangeRef = builder.objectRef<Delivery>('WorkspaceStatusChange').implement({
  fields: (t) => ({
    event: t.field({ type: WorkspaceEventRef, resolve: (d) => d.event }),
    workspace: t.field({
      type: WorkspaceRef,
      nullable: true,
      description: 'the workspace as it is when the change is delivered; null once purged',
      resolve: (d, _args, ctx) =>
        loader(ctx, 'workspaceById', (ids: readonly string[]) => ctx.services.workspaces.getByIds(ids)).load(d.event.workspaceId),
    }),
  }),
});

/** A subscription's own failures (EVENTS_EXPIRED, BAD_USER_INPUT, ...) as GraphQL errors with that code. */
export function subscriptionGraphQLError(err: unknown): unknown {
  if (err instanceof SubscriptionError) return new GraphQLError(err.message, { extensions: { code: err.code } });
  return err;
}
