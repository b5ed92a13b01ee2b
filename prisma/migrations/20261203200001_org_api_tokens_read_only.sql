-- migrate:up
-- A read-only org token (createOrgToken(readOnly: true)) reads what an org token reads, but calls no
-- mutation and reads no logs or subsystems: a dashboard on a wall need not hold a full credential.
ALTER TABLE org_api_tokens ADD COLUMN read_only boolean NOT NULL DEFAULT false;

-- migrate:down
ALTER TABLE org_api_tokens DROP COLUMN read_only;
