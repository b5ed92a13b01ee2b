// The orphan sweeper's statements, one set-based statement per pass. Containers and volumes reach SQL
// as two arrays: full workspace ids from labels (uuid[]) and 12-character name prefixes of unlabeled
// ones (text[]), compared by equality with left(id::text, 12) (indexed, see the id-prefix migration).
// No pattern (LIKE) is ever built from a name.
import type { Database, Tx } from '../db/client.js';
import type { RefArrays } from './container-match.js';

export type Sql = Database['prisma'] | Tx['sql'];

export interface RefRow {
  /** The full id (label match) or null (prefix match). */
  id: string | null;
  prefix: string | null;
}

/**
 * Refs of REMOVED workspaces. A prefix counts only when no other, non-REMOVED workspace shares it, so an
 * unlabeled container can never be taken for a removed workspace while it may belong to a live one.
 */
export function findRemovedWorkspaceRefs(sql: Sql, refs: RefArrays): Promise<RefRow[]> {
  return sql.$queryRaw<RefRow[]>`
    /* findRemovedWorkspaceRefs */
    SELECT w.id::text AS id, NULL::text AS prefix
      FROM workspaces w
     WHERE w.id = ANY(${refs.ids}::uuid[]) AND w.status = 'REMOVED'
    UNION ALL
    SELECT NULL::text, p.prefix
      FROM unnest(${refs.prefixes}::text[]) AS p(prefix)
     WHERE EXISTS (SELECT 1 FROM workspaces w WHERE left(w.id::text, 12) = p.prefix AND w.status = 'REMOVED')
       AND NOT EXISTS (SELECT 1 FROM workspaces w WHERE left(w.id::text, 12) = p.prefix AND w.status <> 'REMOVED')`;
}

/** Refs that match no workspace row of any status (a wiped or foreign database). */
export function findRefsWithoutRow(sql: Sql, refs: RefArrays): Promise<RefRow[]> {
  return sql.$queryRaw<RefRow[]>`
    /* findRefsWithoutRow */
    SELECT i.id::text AS id, NULL::text AS prefix
      FROM unnest(${refs.ids}::uuid[]) AS i(id)
     WHERE NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.id = i.id)
    UNION ALL
    SELECT NULL::text, p.prefix
      FROM unnest(${refs.prefixes}::text[]) AS p(prefix)
     WHERE NOT EXISTS (SELECT 1 FROM workspaces w WHERE left(w.id::text, 12) = p.prefix)`;
}

/** Refs whose workspace is REMOVED or absent: no row of another status matches them. */
export function findRefsRemovedOrAbsent(sql: Sql, refs: RefArrays): Promise<RefRow[]> {
  return sql.$queryRaw<RefRow[]>`
    /* findRefsRemovedOrAbsent */
    SELECT i.id::text AS id, NULL::text AS prefix
      FROM unnest(${refs.ids}::uuid[]) AS i(id)
     WHERE NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.id = i.id AND w.status <> 'REMOVED')
    UNION ALL
    SELECT NULL::text, p.prefix
      FROM unnest(${refs.prefixes}::text[]) AS p(prefix)
     WHERE NOT EXISTS (SELECT 1 FROM workspaces w WHERE left(w.id::text, 12) = p.prefix AND w.status <> 'REMOVED')`;
}

export interface GenerationRef {
  id: string;
  generation: number;
}

/**
 * Of these (workspace, generation) pairs, those whose workspace lives (any status but REMOVED) at a
 * newer generation: what they belong to has been superseded. REMOVED and absent workspaces are the
 * orphan-volumes pass's. The generation only ever grows, so a pair that matches here can never be the
 * current generation of a provisioning that began after the listing.
 */
export function findSupersededGenerations(sql: Sql, refs: readonly GenerationRef[]): Promise<GenerationRef[]> {
  return sql.$queryRaw<GenerationRef[]>`
    /* findSupersededGenerations */
    SELECT r.id::text AS id, r.generation
      FROM unnest(${refs.map((r) => r.id)}::uuid[], ${refs.map((r) => r.generation)}::int[]) AS r(id, generation)
     WHERE EXISTS (SELECT 1 FROM workspaces w WHERE w.id = r.id AND w.status <> 'REMOVED' AND w.generation > r.generation)`;
}

export interface RevokedTokenRow {
  id: string;
  workspace_id: string;
  prefix: string;
}

/**
 * The stale-token pass in one statement. The staleness predicate is part of the revoking UPDATE itself,
 * so a token minted after the container listing (a concurrent restart) is fresh and can never match,
 * whatever the workspace's status has become; and a token whose row changed meanwhile is re-checked by
 * PostgreSQL against its newest version. `containers` is the complete listing: a workspace counts as
 * having a container when its id is labeled on one or its prefix names an unlabeled one. The staleness
 * expression is the one the partial index workspace_auth_tokens_staleness_idx is built on.
 */
export function revokeStaleTokens(sql: Sql, containers: RefArrays, graceSeconds: number): Promise<RevokedTokenRow[]> {
  return sql.$queryRaw<RevokedTokenRow[]>`
    /* revokeStaleTokens */
    UPDATE workspace_auth_tokens t
       SET revoked_at = now()
      FROM workspaces w
     WHERE w.id = t.workspace_id
       AND t.revoked_at IS NULL
       AND w.status NOT IN ('REMOVED', 'PROVISIONING')
       AND w.runtime <> 'external'
       AND COALESCE(t.last_used_at, t.created_at) < now() - make_interval(secs => ${graceSeconds}::int)
       -- NOT (id = ANY(ids) OR prefix = ANY(prefixes)), as anti-joins: evaluated on the few stale
       -- candidates, not on every workspace row.
       AND NOT EXISTS (SELECT 1 FROM unnest(${containers.ids}::uuid[]) AS c(id) WHERE c.id = w.id)
       AND NOT EXISTS (SELECT 1 FROM unnest(${containers.prefixes}::text[]) AS c(prefix) WHERE c.prefix = left(w.id::text, 12))
    RETURNING t.id::text AS id, t.workspace_id::text AS workspace_id, t.prefix`;
}

// -- The naive two-step variant: reachable only through the sweeper factory's test option. It exists so
// -- the race test can prove that it catches the previous system's bug (DESIGN.md "exact sweep").

/** Step one of the naive variant: the candidate workspaces. */
export function selectStaleTokenWorkspacesNaive(sql: Sql, containers: RefArrays, graceSeconds: number): Promise<{ id: string }[]> {
  return sql.$queryRaw<{ id: string }[]>`
    /* selectStaleTokenWorkspacesNaive */
    SELECT DISTINCT w.id::text AS id
      FROM workspace_auth_tokens t JOIN workspaces w ON w.id = t.workspace_id
     WHERE t.revoked_at IS NULL
       AND w.status NOT IN ('REMOVED', 'PROVISIONING')
       AND w.runtime <> 'external'
       AND NOT (w.id = ANY(${containers.ids}::uuid[]) OR left(w.id::text, 12) = ANY(${containers.prefixes}::text[]))
       AND COALESCE(t.last_used_at, t.created_at) < now() - make_interval(secs => ${graceSeconds}::int)`;
}

/** Step two of the naive variant: every live token of the workspace, with no staleness re-check. */
export function revokeWorkspaceTokensNaive(sql: Sql, workspaceId: string): Promise<RevokedTokenRow[]> {
  return sql.$queryRaw<RevokedTokenRow[]>`
    /* revokeWorkspaceTokensNaive */
    UPDATE workspace_auth_tokens SET revoked_at = now()
     WHERE workspace_id = ${workspaceId}::uuid AND revoked_at IS NULL
    RETURNING id::text AS id, workspace_id::text AS workspace_id, prefix`;
}
