// Workspace tokens: minted (plaintext shown once), listed (live, newest first), revoked. Each change
// writes its TOKEN_ISSUED / TOKEN_REVOKED event in the same transaction, last.
import type { Tx } from '../db/client.js';
import type { ServiceDeps } from '../deps.js';
import { NotFoundError, TokenLimitError } from '../errors.js';
import { appendEvents, type NewEvent } from '../events/log.js';
import { isUuid } from '../workspaces/record.js';
import { MAX_LIVE_TOKENS, tokenFromRow, type TokenRecord } from './records.js';
import { hashToken, mintToken } from './secret-token.js';

export type { TokenRecord };

export interface IssuedToken {
  token: string;
  tokenInfo: TokenRecord;
}

export interface TokenService {
  /** createWorkspaceToken: NotFoundError (unknown/REMOVED), TokenLimitError (50 live). */
  create(workspaceId: string): Promise<IssuedToken>;
  /** revokeWorkspaceToken: NotFoundError for an unknown, foreign or already revoked token. */
  revoke(workspaceId: string, tokenId: string): Promise<TokenRecord>;
  /** Live tokens of these workspaces, newest first (DataLoader batch). */
  listLive(workspaceIds: readonly string[]): Promise<TokenRecord[]>;
  /** Live tokens by token id, in the order of `ids`; null for unknown, revoked and non-UUID ids. */
  getLiveByIds(ids: readonly string[]): Promise<(TokenRecord | null)[]>;
  /**
   * Inside a provisioning transaction: mint a token (no limit: the caller revoked the old ones). The
   * TOKEN_ISSUED event is returned, not written: the caller appends it with its other events, last.
   */
  issueForProvisioning(tx: Tx, workspaceId: string, source?: string): Promise<IssuedToken & { event: NewEvent }>;
  /** Inside a transaction: revoke every live token of the workspace; returns those revoked (see tokenRevokedEvents). */
  revokeAllLive(tx: Tx, workspaceId: string): Promise<TokenRecord[]>;
  /** The live token's id when `token` is a live token of this (non-REMOVED) workspace, else null. */
  validateForWorkspace(workspaceId: string, token: string): Promise<string | null>;
}

async function insertToken(tx: Tx, workspaceId: string, limit: number | null): Promise<IssuedToken | null> {
  const minted = mintToken();
  // The workspace row lock (taken by the caller) serialises concurrent mints for one workspace, and
  // the count runs in the INSERT's own snapshot, taken after that lock was granted.
  const rows = await tx.sql.$queryRaw<Record<string, unknown>[]>`
    /* insertWorkspaceToken */
    INSERT INTO workspace_auth_tokens (workspace_id, token_hash, prefix)
    SELECT ${workspaceId}::uuid, ${minted.hash}, ${minted.prefix}
     WHERE ${limit}::int IS NULL
        OR (SELECT count(*) FROM workspace_auth_tokens
             WHERE workspace_id = ${workspaceId}::uuid AND revoked_at IS NULL) < ${limit}::int
    RETURNING *`;
  return rows[0] ? { token: minted.plaintext, tokenInfo: tokenFromRow(rows[0]) } : null;
}

async function lockLiveWorkspace(tx: Tx, workspaceId: string): Promise<void> {
  const rows = await tx.sql.$queryRaw<unknown[]>`
    /* lockWorkspaceForTokens */
    SELECT id FROM workspaces WHERE id = ${workspaceId}::uuid AND status <> 'REMOVED' FOR UPDATE`;
  if (rows.length === 0) throw new NotFoundError();
}

export function tokenIssuedEvent(t: TokenRecord, source: string): NewEvent {
  return { workspaceId: t.workspaceId, type: 'TOKEN_ISSUED', payload: { tokenId: t.id, prefix: t.prefix, source } };
}

export function tokenRevokedEvents(ts: readonly TokenRecord[], source: string): NewEvent[] {
  return ts.map((t) => ({ workspaceId: t.workspaceId, type: 'TOKEN_REVOKED', payload: { tokenId: t.id, prefix: t.prefix, source } }));
}

export function createTokenService(deps: ServiceDeps): TokenService {
  const { db } = deps;
  return {
    async create(workspaceId) {
      if (!isUuid(workspaceId)) throw new NotFoundError();
      return db.tx(async (tx) => {
        await lockLiveWorkspace(tx, workspaceId);
        const issued = await insertToken(tx, workspaceId, MAX_LIVE_TOKENS);
        if (!issued) throw new TokenLimitError(MAX_LIVE_TOKENS);
        await appendEvents(tx, [tokenIssuedEvent(issued.tokenInfo, 'mutation')]);
        return issued;
      });
    },

    async revoke(workspaceId, tokenId) {
      if (!isUuid(workspaceId) || !isUuid(tokenId)) throw new NotFoundError('token not found');
      return db.tx(async (tx) => {
        const rows = await tx.sql.$queryRaw<Record<string, unknown>[]>`
          /* revokeWorkspaceToken */
          UPDATE workspace_auth_tokens t SET revoked_at = now()
            FROM workspaces w
           WHERE t.id = ${tokenId}::uuid AND t.workspace_id = ${workspaceId}::uuid AND t.revoked_at IS NULL
             AND w.id = t.workspace_id AND w.status <> 'REMOVED'
          RETURNING t.*`;
        if (!rows[0]) throw new NotFoundError('token not found or already revoked');
        const t = tokenFromRow(rows[0]);
        await appendEvents(tx, tokenRevokedEvents([t], 'mutation'));
        return t;
      });
    },

    async listLive(workspaceIds) {
      const ids = workspaceIds.filter(isUuid);
      if (ids.length === 0) return [];
      const rows = await db.query<Record<string, unknown>>`
        /* listLiveTokens */
        SELECT * FROM workspace_auth_tokens
         WHERE workspace_id = ANY(${ids}::uuid[]) AND revoked_at IS NULL
         ORDER BY created_at DESC, id DESC`;
      return rows.map(tokenFromRow);
    },

    async getLiveByIds(tokenIds) {
      const ids = tokenIds.filter(isUuid);
      if (ids.length === 0) return tokenIds.map(() => null);
      const rows = await db.query<Record<string, unknown>>`
        /* readLiveTokensByIds */
        SELECT id, workspace_id, prefix, created_at, last_used_at, revoked_at FROM workspace_auth_tokens
         WHERE id = ANY(${ids}::uuid[]) AND revoked_at IS NULL`;
      const byId = new Map(rows.map(tokenFromRow).map((t) => [t.id, t]));
      return tokenIds.map((id) => byId.get(id.toLowerCase()) ?? null);
    },

    async issueForProvisioning(tx, workspaceId, source = 'provisioning') {
      const issued = await insertToken(tx, workspaceId, null);
      if (!issued) throw new Error('token insert returned no row');
      // Not appended here: appendEvents must be last in the transaction, so the caller appends it.
      return { ...issued, event: tokenIssuedEvent(issued.tokenInfo, source) };
    },

    async revokeAllLive(tx, workspaceId) {
      const rows = await tx.sql.$queryRaw<Record<string, unknown>[]>`
        /* revokeAllLiveTokens */
        UPDATE workspace_auth_tokens SET revoked_at = now()
         WHERE workspace_id = ${workspaceId}::uuid AND revoked_at IS NULL
        RETURNING *`;
      return rows.map(tokenFromRow);
    },

    async validateForWorkspace(workspaceId, token) {
      if (!isUuid(workspaceId) || token.length === 0) return null;
      const rows = await db.prisma.$queryRaw<{ id: string }[]>`
        /* validateWorkspaceToken */
        SELECT t.id::text FROM workspace_auth_tokens t JOIN workspaces w ON w.id = t.workspace_id
         WHERE t.token_hash = ${hashToken(token)} AND t.workspace_id = ${workspaceId}::uuid
           AND t.revoked_at IS NULL AND w.status <> 'REMOVED'`;
      return rows[0]?.id ?? null;
    },
  };
}
