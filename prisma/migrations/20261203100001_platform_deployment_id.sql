-- migrate:up
-- The deployment id (API.md "Container contract"): generated once per database, shared by every
-- instance on it, and put on every container and volume the server creates, so two deployments on one
-- Docker daemon never touch each other's resources. A volatile default fills the existing row too.
ALTER TABLE platform_settings ADD COLUMN deployment_id uuid NOT NULL DEFAULT gen_random_uuid();

-- migrate:down
ALTER TABLE platform_settings DROP COLUMN deployment_id;
