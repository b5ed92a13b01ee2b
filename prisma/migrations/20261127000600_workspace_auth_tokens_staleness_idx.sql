-- migrate:up
-- The stale-token sweep revokes live tokens with COALESCE(last_used_at, created_at) older than the
-- grace. Live tokens in use are bumped at least every few minutes, so stale live ones are few; this
-- partial expression index lets the sweep read only those instead of every token ever issued. The
-- expression must stay identical to the sweep's predicate. Prisma cannot express it, so
-- schema.prisma has no counterpart; no column changes.
CREATE INDEX workspace_auth_tokens_staleness_idx
  ON workspace_auth_tokens ((COALESCE(last_used_at, created_at)))
  WHERE revoked_at IS NULL;

-- migrate:down
DROP INDEX workspace_auth_tokens_staleness_idx;
