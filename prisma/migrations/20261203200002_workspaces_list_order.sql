-- migrate:up
-- Indexes for workspaces(orderBy:, search:) on a large fleet (API.md "Pagination and ordering").
-- Each order is keyset-paginated on (sort key, id) in one direction, so one btree on (key, id) serves
-- ASC (forward scan) and DESC (backward scan). CREATED_AT already has workspaces_created_idx.
--
-- LAST_HEARTBEAT_AT has deliberately no index: every heartbeat writes last_heartbeat_at, and an index
-- on it turns each heartbeat (the hottest write there is) from a HOT update into one that writes every
-- index of the table, the trigram ones below included; measured with pgbench on 100,000 rows, that
-- halved UPDATE throughput. That order is a top-N sort instead (about 25 ms at 100,000 workspaces).
--
-- search (name or role contains, case-insensitively: ILIKE '%…%') uses trigram GIN indexes: without
-- them a selective search reads the whole table (60 ms at 100,000 rows). pg_trgm is a trusted
-- extension: the database owner may create it.
--
-- Prisma cannot express expression or operator-class indexes; schema.prisma declares only the (status,
-- id) one. No column changes.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX workspaces_name_order_idx ON workspaces ((name COLLATE "C"), id);
DROP INDEX workspaces_status_idx;
CREATE INDEX workspaces_status_order_idx ON workspaces (status, id);
CREATE INDEX workspaces_name_trgm_idx ON workspaces USING gin (name gin_trgm_ops);
CREATE INDEX workspaces_role_trgm_idx ON workspaces USING gin (role gin_trgm_ops);

-- migrate:down
DROP INDEX workspaces_role_trgm_idx;
DROP INDEX workspaces_name_trgm_idx;
DROP INDEX workspaces_status_order_idx;
CREATE INDEX workspaces_status_idx ON workspaces (status);
DROP INDEX workspaces_name_order_idx;
