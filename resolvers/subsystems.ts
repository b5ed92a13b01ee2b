// subsystems: the five reconciler loops. Operators' business, so the admin token and writable org
// tokens only: a workspace token or a read-only (dashboard) token has no reason to see the platform's
// internals (FORBIDDEN), and no credential is UNAUTHENTICATED like every field but viewer.
import { builder } from '../schema/builder.js';
import { SubsystemRef } from '../schema/subsystem.js';

builder.queryField('subsystems', (t) =>
  t.field({
    type: [SubsystemRef],
    description: 'background loops: orphan-sweeper, health-sweep, liveness, provision-timeout, hibernation',
    authScopes: { operator: true },
    resolve: (_root, _args, ctx) => ctx.services.reconcilers.subsystems(),
  }),
);
