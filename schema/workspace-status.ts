import { WORKSPACE_STATUSES } from '../services/workspaces/record.js';
import { builder } from './builder.js';

export const WorkspaceStatus = builder.enumType('WorkspaceStatus', { values: WORKSPACE_STATUSES });
