// Subscription.workspaceStatusChanged and Subscription.workspaceEvents: both open one subscription of
// the events service; authorization is checked when subscribing (authorizeOnSubscribe).
import type { GraphQLContext } from '../schema/context.js';
import { builder } from '../schema/builder.js';
import { WorkspaceEventRef } from '../schema/event.js';
import { subscriptionGraphQLError, WorkspaceStatusChangeRef } from '../schema/status-change.js';
import { evictorFor, type Delivery } from '../services/events/subscriptions.js';
import type { WorkspaceStatus as WorkspaceStatusName } from '../services/workspaces/record.js';
import { WorkspaceStatus } from '../schema/workspace-status.js';

interface SubscriptionArgs {
  workspaceId?: string | number | null;
  parentId?: string | number | null;
  status?: readonly WorkspaceStatusName[] | null;
  afterEventId?: string | number | null;
}

export const idOrNull = (v: string | number | null | undefined) => (v === null || v === undefined ? null : String(v));

async function open(ctx: GraphQLContext, args: SubscriptionArgs, statusOnly: boolean): Promise<AsyncIterable<Delivery>> {
  try {
    return await ctx.services.subscriptions.open({
      viewer: ctx.viewer,
      workspaceId: idOrNull(args.workspaceId),
      parentId: idOrNull(args.parentId),
      statuses: args.status ?? null,
      afterEventId: idOrNull(args.afterEventId),
      statusOnly,
      onEvict: evictorFor(ctx),
    });
  } catch (err) {
    throw subscriptionGraphQLError(err);
  }
}

// A workspace token may name only its own workspace; without workspaceId it gets its own events. The
// children of a workspace are other workspaces: a parentId filter is for staff only.
export const subscriptionScopes = (args: SubscriptionArgs) =>
  args.parentId !== null && args.parentId !== undefined
    ? { staff: true }
    : args.workspaceId === null || args.workspaceId === undefined
      ? { authenticated: true }
      : { workspaceReader: String(args.workspaceId) };

builder.subscriptionFields((t) => ({
  workspaceStatusChanged: t.field({
    type: WorkspaceStatusChangeRef,
    description:
      'Without afterEventId: every status change committed after the subscription is established. With afterEventId: ' +
      'first every persisted event after that id, in id order, then live ones. workspaceId null = all workspaces the viewer may see. ' +
      "parentId: that workspace's direct children; status: only changes to one of these statuses (replay filtered alike).",
    args: { workspaceId: t.arg.id(), parentId: t.arg.id(), status: t.arg({ type: [WorkspaceStatus] }), afterEventId: t.arg.id() },
    authScopes: (_root, args) => subscriptionScopes(args),
    subscribe: (_root, args, ctx) => open(ctx, args, true),
    resolve: (d: Delivery) => d,
  }),
  workspaceEvents: t.field({
    type: WorkspaceEventRef,
    description: 'Every event type (status events and the others), with the same afterEventId and workspaceId rules.',
    args: { workspaceId: t.arg.id(), afterEventId: t.arg.id() },
    authScopes: (_root, args) => subscriptionScopes(args),
    subscribe: (_root, args, ctx) => open(ctx, args, false),
    resolve: (d: Delivery) => d.event,
  }),
}));
