// Org tokens: minted by the admin (plaintext shown once), listed (live, newest first), revoked.
// Minting is also limited per client IP (API.md: 10 calls an hour, refused calls included).
import type { ServiceDeps } from '../deps.js';
import { NotFoundError } from '../errors.js';
import { FixedWindowLimiter, type LimitDecision } from '../rate-limit.js';
import { mintToken } from '../tokens/secret-token.js';
import { orgTokenNameSchema, parseOrThrow } from '../validation/rules.js';
import { isUuid } from '../workspaces/record.js';

export interface OrgTokenRecord {
  id: string;
  name: string | null;
  prefix: string;
  createdBy: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface OrgTokenService {
  /** Counts one createOrgToken call from this IP and says whether it may proceed. */
  admitMint(clientIp: string): LimitDecision;
  /** InvalidInputError for a name over 100 characters. */
  create(name: string | null, createdBy: string): Promise<{ token: string; orgToken: OrgTokenRecord }>;
  /** NotFoundError for an unknown or already revoked token. */
  revoke(id: string): Promise<OrgTokenRecord>;
  /** Live tokens, newest first. */
  list(): Promise<OrgTokenRecord[]>;
}

export const ORG_TOKEN_MINTS_PER_HOUR = 10;

function orgTokenFromRow(r: Record<string, unknown>): OrgTokenRecord {
  return {
    id: r.id as string,
    name: (r.name as string | null) ?? null,
    prefix: r.prefix as string,
    createdBy: (r.created_by as string | null) ?? null,
    createdAt: r.created_at as Date,
    lastUsedAt: (r.last_used_at as Date | null) ?? null,
    revokedAt: (r.revoked_at as Date | null) ?? null,
  };
}

export function createOrgTokenService(deps: ServiceDeps): OrgTokenService {
  const { db } = deps;
  const mintLimiter = new FixedWindowLimiter(ORG_TOKEN_MINTS_PER_HOUR, 3_600_000);
  return {
    admitMint: (clientIp) => mintLimiter.hit(clientIp),

    async create(name, createdBy) {
      if (name !== null) parseOrThrow(orgTokenNameSchema, name, ['name']);
      const minted = mintToken();
      const rows = await db.prisma.$queryRaw<Record<string, unknown>[]>`
        /* insertOrgToken */
        INSERT INTO org_api_tokens (name, token_hash, prefix, created_by)
        VALUES (${name}, ${minted.hash}, ${minted.prefix}, ${createdBy})
        RETURNING *`;
      return { token: minted.plaintext, orgToken: orgTokenFromRow(rows[0]!) };
    },

    async revoke(id) {
      if (!isUuid(id)) throw new NotFoundError('org token not found');
      const rows = await db.prisma.$queryRaw<Record<string, unknown>[]>`
        /* revokeOrgToken */
        UPDATE org_api_tokens SET revoked_at = now() WHERE id = ${id}::uuid AND revoked_at IS NULL RETURNING *`;
      if (!rows[0]) throw new NotFoundError('org token not found or already revoked');
      return orgTokenFromRow(rows[0]);
    },

    async list() {
      const rows = await db.prisma.$queryRaw<Record<string, unknown>[]>`
        /* listOrgTokens */
        SELECT * FROM org_api_tokens WHERE revoked_at IS NULL ORDER BY created_at DESC, id DESC`;
      return rows.map(orgTokenFromRow);
    },
  };
}
