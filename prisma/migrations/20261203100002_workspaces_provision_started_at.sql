-- migrate:up
-- When this generation's container was started (the provisioner's last step). From then on the work is
-- the agent's (its register), not an instance's: its claim is no longer renewed, and the takeover and
-- provision-timeout loops tell "started but never registered" from "never got that far".
ALTER TABLE workspaces ADD COLUMN provision_started_at timestamptz;

-- migrate:down
ALTER TABLE workspaces DROP COLUMN provision_started_at;
