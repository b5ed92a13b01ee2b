import { builder } from '../schema/builder.js';
import { ViewerRef } from '../schema/viewer.js';

builder.queryField('viewer', (t) =>
  t.field({ type: ViewerRef, description: 'Who the credential is; ANONYMOUS without one.', resolve: (_root, _args, ctx) => ctx.viewer }),
);
