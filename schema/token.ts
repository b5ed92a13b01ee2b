import type { TokenRecord } from '../services/tokens/records.js';
import { builder } from './builder.js';

export const WorkspaceTokenRef = builder.objectRef<TokenRecord>('WorkspaceToken').implement({
  description: 'A workspace token; the plaintext is shown only once, when it is created.',
  fields: (t) => ({
    id: t.exposeID('id'),
    prefix: t.exposeString('prefix'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});
