-- migrate:up
-- The orphan sweeper matches unlabeled `ws-<first 12 characters of the id>` containers and volumes to
-- rows by prefix equality (never LIKE). This expression index turns each prefix into an index probe
-- instead of computing left(id::text, 12) for every row. Prisma cannot express an expression index, so
-- schema.prisma has no counterpart; no column changes.
CREATE INDEX workspaces_id_prefix_idx ON workspaces (left(id::text, 12));

-- migrate:down
DROP INDEX workspaces_id_prefix_idx;
