// Subsystem: one background loop as every instance sees it (API.md "Reconcilers").
import type { SubsystemStatus } from '../services/reconcilers/index.js';
import { builder } from './builder.js';

export const SubsystemRef = builder.objectRef<SubsystemStatus>('Subsystem').implement({
  description: 'A background reconciler loop. lastTickAt and healthy come from the database, where the leader records each tick.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'orphan-sweeper, health-sweep, liveness, provision-timeout or hibernation' }),
    lastTickAt: t.expose('lastTickAt', { type: 'DateTime', nullable: true, description: 'the last successful tick, on any instance' }),
    healthy: t.exposeBoolean('healthy', {
      description: 'a tick within three intervals (or started less than that long ago); false without a reachable container runtime for orphan-sweeper and health-sweep',
    }),
    leader: t.exposeBoolean('leader', { description: 'whether this instance leads the loop' }),
  }),
});
