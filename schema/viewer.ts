import type { Viewer } from '../services/auth/viewer.js';
import { builder } from './builder.js';

export const ViewerKind = builder.enumType('ViewerKind', { values: ['ADMIN', 'ORG_TOKEN', 'WORKSPACE', 'ANONYMOUS'] as const });

export const ViewerRef = builder.objectRef<Viewer>('Viewer').implement({
  fields: (t) => ({
    kind: t.field({ type: ViewerKind, resolve: (v) => v.kind }),
    workspaceId: t.id({ nullable: true, resolve: (v) => (v.kind === 'WORKSPACE' ? v.workspaceId : null) }),
    orgTokenId: t.id({ nullable: true, resolve: (v) => (v.kind === 'ORG_TOKEN' ? v.orgTokenId : null) }),
    readOnly: t.boolean({
      description: 'true for a read-only org token: no mutation, no logs, no subsystems',
      resolve: (v) => v.kind === 'ORG_TOKEN' && v.readOnly,
    }),
  }),
});
