import { WORKSPACE_STATUSES } from '../services/workspaces/record.js';
import { builder } from './builder.js';

export const WorkspaceStatus = builder.enumType('WorkspaceStatus', { values: WORKSPACE_STATUSES });

export const WorkspaceStatusCount = builder
  .objectRef<{ status: (typeof WORKSPACE_STATUSES)[number]; count: number }>('WorkspaceStatusCount')
  .implement({
    fields: (t) => ({
      status: t.field({ type: WorkspaceStatus, resolve: (c) => c.status }),
      count: t.exposeInt('count'),
    }),
  });
