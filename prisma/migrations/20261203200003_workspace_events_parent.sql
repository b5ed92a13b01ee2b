-- migrate:up
-- The parent the workspace had when the event was written, so workspaceStatusChanged(parentId:) filters
-- live delivery and replay alike on the event row itself (API.md "Frontends": replay applies the same
-- filters), and a child that has since moved elsewhere keeps its history under the parent it had.
-- Events written before this migration get the parent their workspace has now.
ALTER TABLE workspace_events ADD COLUMN parent_id uuid;
UPDATE workspace_events e SET parent_id = w.parent_id FROM workspaces w WHERE w.id = e.workspace_id AND w.parent_id IS NOT NULL;
CREATE INDEX workspace_events_parent_idx ON workspace_events (parent_id, id) WHERE parent_id IS NOT NULL;

-- migrate:down
DROP INDEX workspace_events_parent_idx;
ALTER TABLE workspace_events DROP COLUMN parent_id;
