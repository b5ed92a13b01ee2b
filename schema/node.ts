// Relay global object identification (API.md): a Node interface whose ids are the plain UUIDs used
// everywhere else (the relay plugin's encoded global ids are not used). Workspace, WorkspaceToken and
// OrgToken implement it; resolvers/node.ts adds node(id) and nodes(ids).
import type { NodeRecord } from '../services/nodes/service.js';
import { builder } from './builder.js';

export const NodeRef = builder.interfaceRef<NodeRecord>('Node').implement({
  description: 'Relay global object identification; ids are the same plain UUIDs as everywhere else.',
  fields: (t) => ({ id: t.exposeID('id') }),
  // The three records have disjoint shapes: only a workspace has a runtime, only a workspace token a
  // workspaceId.
  resolveType: (node) => ('runtime' in node ? 'Workspace' : 'workspaceId' in node ? 'WorkspaceToken' : 'OrgToken'),
});
