// platform: staff only (the admin token and every org token); a workspace token has no business with
// the platform's internals (FORBIDDEN), and no credential is UNAUTHENTICATED.
import { builder } from '../schema/builder.js';
import { PlatformRef } from '../schema/platform.js';

builder.queryField('platform', (t) =>
  t.field({
    type: PlatformRef,
    description: 'the deployment and the instance that answered (staff only)',
    authScopes: { staff: true },
    resolve: (_root, _args, ctx) => ctx.services.platform.info(),
  }),
);
