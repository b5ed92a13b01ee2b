// Subscription.workspaceLogs: a container's output, followed (admin and writable org tokens only).
import { builder } from '../schema/builder.js';
import { WorkspaceLogLineRef } from '../schema/log-line.js';
import { subscriptionGraphQLError } from '../schema/status-change.js';
import type { LogLine } from '../services/logs/follow.js';

builder.subscriptionField('workspaceLogs', (t) =>
  t.field({
    type: WorkspaceLogLineRef,
    description:
      "The container's output: the last `tail` lines (0 to 10,000), then new lines as they are written; completes when the " +
      'container stops or is removed, and at once with nothing when there is no container or no runtime.',
    args: { workspaceId: t.arg.id({ required: true }), tail: t.arg.int({ defaultValue: 100 }) },
    authScopes: { operator: true },
    subscribe: async (_root, args, ctx) => {
      try {
        return await ctx.services.logs.follow(String(args.workspaceId), args.tail ?? 100);
      } catch (err) {
        throw subscriptionGraphQLError(err);
      }
    },
    resolve: (line: LogLine) => line,
  }),
);
