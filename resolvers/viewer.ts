// Query.viewer and Query.serverTime: the two fields anyone may read, with or without a credential.
import { builder } from '../schema/builder.js';
import { ViewerRef } from '../schema/viewer.js';

builder.queryFields((t) => ({
  viewer: t.field({ type: ViewerRef, description: 'Who the credential is; ANONYMOUS without one.', resolve: (_root, _args, ctx) => ctx.viewer }),
  serverTime: t.field({
    type: 'DateTime',
    description: "the server's clock, so a frontend can age lastHeartbeatAt without trusting its own",
    resolve: () => new Date(),
  }),
}));
