// subsystems: the five reconciler loops. Operators' business, so staff only (the admin token or an org
// token): a workspace token has no reason to see the platform's internals (FORBIDDEN), and no
// credential is UNAUTHENTICATED like every field but viewer.
import { builder } from '../schema/builder.js';
import { SubsystemRef } from '../schema/subsystem.js';

builder.queryField('subsystems', (t) =>
  t.field({
    type: [SubsystemRef],
    description: 'background loops: orphan-sweeper, health-sweep, liveness, provision-timeout, hibernation',
    authScopes: { staff: true },
    resolve: (_root, _args, ctx) => ctx.services.reconcilers.subsystems(),
  }),
);
