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
  readOnly: boolean;
}

export interface OrgTokenService {
  /** Counts one createOrgToken call from this IP and says whether it may proceed. */
  admitMint(clientIp: string): LimitDecision;
  /** InvalidInputError for a name over 100 characters. */
  create(name: string | null, createdBy: string, readOnly?: boolean): Promise<{ token: string; orgToken: OrgTokenRecord }>;
  /** NotFoundError for an unknown or already revoked token. */
  revoke(id: string): Promise<OrgTokenRecord>;
  /** Live tokens, newest first. */
  list(): Promise<OrgTokenRecord[]>;
  /** Live tokens by id, in the order of `ids`; null for unknown, revoked and non-UUID ids. */
  getLiveByIds(ids: readonly string[]): Promise<(OrgTokenRecord | null)[]>;
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
    readOnly: r.read_only === true,
  };
}

export function createOrgTokenService(deps: ServiceDeps): OrgTokenService {
  const { db } = deps;
  const mintLimiter = new FixedWindowLimiter(ORG_TOKEN_MINTS_PER_HOUR, 3_600_000);
  return {
    admitMint: (clientIp) => mintLimiter.hit(clientIp),

    async create(name, createdBy, readOnly = false) {
      if (name !== null) parseOrThrow(orgTokenNameSchema, name, ['name']);
      const minted = mintToken();
      const rows = await db.prisma.$queryRaw<Record<string, unknown>[]>`
        /* insertOrgToken */
        INSERT INTO org_api_tokens (name, token_hash, prefix, created_by, read_only)
        VALUES (${name}, ${minted.hash}, ${minted.prefix}, ${createdBy}, ${readOnly})
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

    async getLiveByIds(ids) {
      const uuids = ids.filter(isUuid);
      if (uuids.length === 0) return ids.map(() => null);
      const rows = await db.query<Record<string, unknown>>`
        /* readLiveOrgTokensByIds */
        SELECT id, name, prefix, created_by, created_at, last_used_at, revoked_at, read_only
          FROM org_api_tokens WHERE id = ANY(${uuids}::uuid[]) AND revoked_at IS NULL`;
      const byId = new Map(rows.map(orgTokenFromRow).map((t) => [t.id, t]));
      return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
    },
  };
}
