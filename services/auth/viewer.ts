// Who is calling. One lookup by hash answers for org and workspace tokens alike; unknown, revoked and
// removed-workspace tokens all come back as `null`, and callers answer them with one indistinguishable
// rejection (API.md).
import type { Database } from '../db/client.js';
import { hashToken, parseBearer } from '../tokens/secret-token.js';

export type Viewer =
  | { kind: 'ADMIN' }
  /** readOnly: minted with createOrgToken(readOnly: true): reads only, never logs or subsystems. */
  | { kind: 'ORG_TOKEN'; orgTokenId: string; readOnly: boolean }
  | { kind: 'WORKSPACE'; workspaceId: string; tokenId: string }
  | { kind: 'ANONYMOUS' };

export const ANONYMOUS: Viewer = { kind: 'ANONYMOUS' };

/** `invalid`: a credential was presented and it is not good (malformed, unknown, revoked, removed). */
export type AuthResult = { ok: true; viewer: Viewer } | { ok: false };

export interface Authenticator {
  authenticate(authorizationHeader: string | null | undefined): Promise<AuthResult>;
  /** Resolves a plaintext token (no header syntax). */
  authenticateToken(token: string): Promise<AuthResult>;
}

export function createAuthenticator(deps: { db: Database; adminTokenHashes: () => readonly string[] }): Authenticator {
  const { db } = deps;

  async function authenticateToken(token: string): Promise<AuthResult> {
    const hash = hashToken(token);
    if (deps.adminTokenHashes().includes(hash)) return { ok: true, viewer: { kind: 'ADMIN' } };
    // last_used_at is bumped at most once a minute per token, in the same statement as the lookup.
    const rows = await db.prisma.$queryRaw<{ kind: 'W' | 'O'; id: string; workspace_id: string | null; read_only: boolean }[]>`
      /* authenticateToken */
      WITH ws AS (
        SELECT t.id, t.workspace_id, t.last_used_at
          FROM workspace_auth_tokens t
          JOIN workspaces w ON w.id = t.workspace_id
         WHERE t.token_hash = ${hash} AND t.revoked_at IS NULL AND w.status <> 'REMOVED'
      ), org AS (
        SELECT o.id, o.last_used_at, o.read_only FROM org_api_tokens o WHERE o.token_hash = ${hash} AND o.revoked_at IS NULL
      ), bump_ws AS (
        UPDATE workspace_auth_tokens SET last_used_at = now()
         WHERE id IN (SELECT id FROM ws WHERE last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')
           AND revoked_at IS NULL
      ), bump_org AS (
        UPDATE org_api_tokens SET last_used_at = now()
         WHERE id IN (SELECT id FROM org WHERE last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')
           AND revoked_at IS NULL
      )
      SELECT 'W' AS kind, id::text, workspace_id::text, false AS read_only FROM ws
      UNION ALL
      SELECT 'O' AS kind, id::text, NULL, read_only FROM org`;
    const row = rows[0];
    if (!row) return { ok: false };
    if (row.kind === 'O') return { ok: true, viewer: { kind: 'ORG_TOKEN', orgTokenId: row.id, readOnly: row.read_only } };
    return { ok: true, viewer: { kind: 'WORKSPACE', workspaceId: row.workspace_id!, tokenId: row.id } };
  }

  return {
    authenticateToken,
    async authenticate(header) {
      const parsed = parseBearer(header);
      if (parsed.kind === 'none') return { ok: true, viewer: ANONYMOUS };
      if (parsed.kind === 'malformed') return { ok: false };
      return authenticateToken(parsed.token);
    },
  };
}

export function isAdminOrOrg(v: Viewer): boolean {
  return v.kind === 'ADMIN' || v.kind === 'ORG_TOKEN';
}

/** May this viewer change things (every mutation) and read logs and subsystems? The admin token and
 * writable org tokens (API.md "Who may do what"). */
export function canOperate(v: Viewer): boolean {
  return v.kind === 'ADMIN' || (v.kind === 'ORG_TOKEN' && !v.readOnly);
}

/** May this viewer read this workspace? Admin and org tokens read all; a workspace token its own (its id
 * in any letter case: an upper-case UUID is the same UUID). */
export function canReadWorkspace(v: Viewer, workspaceId: string): boolean {
  return isAdminOrOrg(v) || (v.kind === 'WORKSPACE' && v.workspaceId === workspaceId.toLowerCase());
}
