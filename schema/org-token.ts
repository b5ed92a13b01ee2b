import type { OrgTokenRecord } from '../services/org-tokens/service.js';
import { builder } from './builder.js';
import { NodeRef } from './node.js';

export const OrgTokenRef = builder.objectRef<OrgTokenRecord>('OrgToken').implement({
  description: 'An organisation API token; the plaintext is shown only once, when it is created.',
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name', { nullable: true }),
    prefix: t.exposeString('prefix'),
    createdBy: t.exposeString('createdBy', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    readOnly: t.exposeBoolean('readOnly', { description: 'reads only: no mutation, no logs, no subsystems' }),
  }),
});

export const CreateOrgTokenSuccess = builder.objectRef<{ token: string; orgToken: OrgTokenRecord }>('CreateOrgTokenSuccess').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'plaintext, shown once' }),
    orgToken: t.field({ type: OrgTokenRef, resolve: (r) => r.orgToken }),
  }),
});

export const RevokeOrgTokenSuccess = builder.objectRef<{ orgToken: OrgTokenRecord }>('RevokeOrgTokenSuccess').implement({
  fields: (t) => ({ orgToken: t.field({ type: OrgTokenRef, resolve: (r) => r.orgToken }) }),
});
