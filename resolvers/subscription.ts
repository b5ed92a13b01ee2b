// Subscription.workspaceStatusChanged and Subscription.workspaceEvents: both open one subscription of
// the events service; authorization is checked when subscribing (authorizeOnSubscribe).
import type { GraphQLContext } from '../schema/context.js';
import { builder } from '../schema/builder.js';
import { WorkspaceEventRef } from '../schema/event.js';
import { subscriptionGraphQLError, WorkspaceStatusChangeRef } from '../schema/status-change.js';
import { evictorFor, type Delivery } from '../services/events/subscriptions.js';

interface SubscriptionArgs {
  workspaceId?: string | number | null;
  afterEventId?: string | number | null;
}

async function open(ctx: GraphQLContext, args: SubscriptionArgs, statusOnly: boolean): Promise<AsyncIterable<Delivery>> {
  try {
    return await ctx.services.subscriptions.open({
      viewer: ctx.viewer,
      workspaceId: args.workspaceId === null || args.workspaceId === undefined ? null : String(args.workspaceId),
      afterEventId: args.afterEventId === null || args.afterEventId === undefined ? null : String(args.afterEventId),
      statusOnly,
      onEvict: evictorFor(ctx),
    });
  } catch (err) {
    throw subscriptionGraphQLError(err);
  }
}

// A workspace token may name only its own workspace; without workspaceId it gets its own events.
const scopes = (args: SubscriptionArgs) =>
  args.workspaceId === null || args.workspaceId === undefined ? { authenticated: true } : { workspaceReader: String(args.workspaceId) };

builder.subscriptionFields((t) => ({
  workspaceStatusChanged: t.field({
    type: WorkspaceStatusChangeRef,
    description:
      'Without afterEventId: every status change committed after the subscription is established. With afterEventId: ' +
      'first every persisted event after that id, in id order, then live ones. workspaceId null = all workspaces the viewer may see.',
    args: { workspaceId: t.arg.id(), afterEventId: t.arg.id() },
    authScopes: (_root, args) => scopes(args),
    subscribe: (_root, args, ctx) => open(ctx, args, true),
    resolve: (d: Delivery) => d,
  }),
  workspaceEvents: t.field({
    type: WorkspaceEventRef,
    description: 'Every event type (status events and the others), with the same afterEventId and workspaceId rules.',
    args: { workspaceId: t.arg.id(), afterEventId: t.arg.id() },
    authScopes: (_root, args) => scopes(args),
    subscribe: (_root, args, ctx) => open(ctx, args, false),
    resolve: (d: Delivery) => d.event,
  }),
}));
