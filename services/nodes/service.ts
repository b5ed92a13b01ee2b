// Relay's node(id) / nodes(ids) (API.md "Frontends"): whatever workspace(id) and the token lists would
// show this viewer, and null for anything else. Ids are the plain UUIDs of three tables, so an id is
// looked up in each table the viewer may read; gen_random_uuid() makes a collision between tables
// practically impossible, and the workspace wins if one ever happened.
import type { Viewer } from '../auth/viewer.js';
import type { OrgTokenRecord, OrgTokenService } from '../org-tokens/service.js';
import type { TokenRecord, TokenService } from '../tokens/service.js';
import type { WorkspaceRecord } from '../workspaces/record.js';
import type { WorkspaceService } from '../workspaces/service.js';
import { BadUserInputError } from '../errors.js';

export type NodeRecord = WorkspaceRecord | TokenRecord | OrgTokenRecord;

export const MAX_NODE_IDS = 100;

export interface NodeService {
  /** In the order of `ids`; BadUserInputError past MAX_NODE_IDS. Never a permission error: null instead. */
  visible(viewer: Viewer, ids: readonly string[]): Promise<(NodeRecord | null)[]>;
}

export function createNodeService(deps: { workspaces: WorkspaceService; tokens: TokenService; orgTokens: OrgTokenService }): NodeService {
  return {
    async visible(viewer, ids) {
      if (ids.length > MAX_NODE_IDS) throw new BadUserInputError(`at most ${MAX_NODE_IDS} ids`);
      if (viewer.kind === 'ANONYMOUS' || ids.length === 0) return ids.map(() => null);
      // A workspace token reads its own workspace only, and no token at all.
      if (viewer.kind === 'WORKSPACE') {
        const own = ids.map((id) => (id.toLowerCase() === viewer.workspaceId ? id : ''));
        return deps.workspaces.getByIds(own);
      }
      const [workspaces, tokens, orgTokens] = await Promise.all([
        deps.workspaces.getByIds(ids),
        deps.tokens.getLiveByIds(ids),
        // Org tokens are the admin's business only (orgTokens is admin-only).
        viewer.kind === 'ADMIN' ? deps.orgTokens.getLiveByIds(ids) : ids.map(() => null),
      ]);
      return ids.map((_, i) => workspaces[i] ?? tokens[i] ?? orgTokens[i] ?? null);
    },
  };
}
