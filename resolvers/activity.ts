// Subscription.workspaceActivity: the workspace after heartbeats that changed what it reports, live
// only and throttled per workspace (services/activity/hub.ts). Visibility as workspaceStatusChanged.
import { builder } from '../schema/builder.js';
import { WorkspaceRef } from '../schema/workspace.js';
import type { ActivityDelivery } from '../services/activity/hub.js';
import { idOrNull, subscriptionScopes } from './subscription.js';

builder.subscriptionField('workspaceActivity', (t) =>
  t.field({
    type: WorkspaceRef,
    description:
      'Live only (no replay, no event rows): the workspace after heartbeats that changed activeTasks, currentTask, ' +
      'lastErrorRate, lastSampleError or uptimeSeconds; at most once per workspace per ACTIVITY_PUSH_INTERVAL_MS, newest state.',
    args: { workspaceId: t.arg.id(), parentId: t.arg.id() },
    authScopes: (_root, args) => subscriptionScopes(args),
    subscribe: (_root, args, ctx) =>
      ctx.services.activity.open(ctx.viewer, { workspaceId: idOrNull(args.workspaceId), parentId: idOrNull(args.parentId) }),
    resolve: (d: ActivityDelivery) => d.workspace,
  }),
);
