import type { TokenRecord } from '../services/tokens/records.js';
import { builder } from './builder.js';
import { NodeRef } from './node.js';

export const WorkspaceTokenRef = builder.objectRef<TokenRecord>('WorkspaceToken').implement({
  description: 'A workspace token; the plaintext is shown only once, when it is created.',
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID('id'),
    prefix: t.exposeString('prefix'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

export const CreateWorkspaceTokenSuccess = builder
  .objectRef<{ token: string; tokenInfo: TokenRecord }>('CreateWorkspaceTokenSuccess')
  .implement({
    fields: (t) => ({
      token: t.exposeString('token', { description: 'plaintext, shown once' }),
      tokenInfo: t.field({ type: WorkspaceTokenRef, resolve: (r) => r.tokenInfo }),
    }),
  });

export const RevokeWorkspaceTokenSuccess = builder.objectRef<{ tokenInfo: TokenRecord }>('RevokeWorkspaceTokenSuccess').implement({
  fields: (t) => ({ tokenInfo: t.field({ type: WorkspaceTokenRef, resolve: (r) => r.tokenInfo }) }),
});
