// Token rows as services hand them out: never the hash.
export interface TokenRecord {
  id: string;
  workspaceId: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export function tokenFromRow(r: Record<string, unknown>): TokenRecord {
  return {
    id: r.id as string,
    workspaceId: r.workspace_id as string,
    prefix: r.prefix as string,
    createdAt: r.created_at as Date,
    lastUsedAt: (r.last_used_at as Date | null) ?? null,
    revokedAt: (r.revoked_at as Date | null) ?? null,
  };
}

/** A live workspace has at most this many unrevoked tokens (API.md TokenLimitError.limit). */
export const MAX_LIVE_TOKENS = 50;
