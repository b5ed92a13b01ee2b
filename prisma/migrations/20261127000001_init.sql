-- migrate:up
CREATE TYPE workspace_status AS ENUM (
  'PROVISIONING', 'ONLINE', 'DEGRADED', 'OFFLINE', 'FAILED',
  'PAUSED', 'HIBERNATING', 'HIBERNATED', 'AWAITING_AGENT', 'REMOVED'
);

CREATE TABLE workspaces (
  id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name                      text NOT NULL,
  role                      text,
  tier                      integer NOT NULL DEFAULT 2,
  runtime                   text NOT NULL DEFAULT 'langgraph',
  image                     text,
  status                    workspace_status NOT NULL,
  url                       text,
  parent_id                 uuid REFERENCES workspaces (id) ON DELETE SET NULL,
  agent_card                jsonb,
  active_tasks              integer NOT NULL DEFAULT 0,
  max_concurrent_tasks      integer NOT NULL DEFAULT 1,
  current_task              text,
  last_error_rate           double precision NOT NULL DEFAULT 0,
  last_sample_error         text,
  uptime_seconds            integer NOT NULL DEFAULT 0,
  runtime_state             text NOT NULL DEFAULT '',
  last_heartbeat_at         timestamptz,
  hibernation_idle_minutes  integer,
  -- hibernation clock: the last time the agent reported active_tasks > 0 (or the workspace woke)
  last_active_at            timestamptz NOT NULL DEFAULT now(),
  -- provisioning: every (re)provision bumps generation; the async worker claims (generation, owner)
  generation                integer NOT NULL DEFAULT 0,
  provision_claimed_by      text,
  provision_claimed_at      timestamptz,
  -- crash-loop clock: automatic restarts counted inside a window that starts at the first of them
  restart_window_started_at timestamptz,
  restart_count             integer NOT NULL DEFAULT 0,
  status_changed_at         timestamptz NOT NULL DEFAULT now(),
  removed_at                timestamptz,
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspaces_parent_idx ON workspaces (parent_id);
CREATE INDEX workspaces_status_idx ON workspaces (status);
CREATE INDEX workspaces_created_idx ON workspaces (created_at, id);

CREATE TABLE workspace_auth_tokens (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  token_hash    text NOT NULL UNIQUE,
  prefix        text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX workspace_auth_tokens_live_idx ON workspace_auth_tokens (workspace_id) WHERE revoked_at IS NULL;

CREATE TABLE org_api_tokens (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name          text,
  token_hash    text NOT NULL UNIQUE,
  prefix        text NOT NULL,
  created_by    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX org_api_tokens_live_idx ON org_api_tokens (created_at) WHERE revoked_at IS NULL;

CREATE TABLE platform_settings (
  id                       smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  admin_token_hash         text,
  secrets_key_fingerprint  text,
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE workspace_secrets (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  key           text NOT NULL,
  ciphertext    bytea NOT NULL,
  iv            bytea NOT NULL,
  auth_tag      bytea NOT NULL,
  value_length  integer NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT workspace_secrets_workspace_key_key UNIQUE (workspace_id, key)
);

-- No foreign key: events outlive purged workspaces.
CREATE TABLE workspace_events (
  id               bigserial PRIMARY KEY,
  workspace_id     uuid NOT NULL,
  type             text NOT NULL,
  status           workspace_status,
  previous_status  workspace_status,
  payload          jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspace_events_workspace_idx ON workspace_events (workspace_id, id);
CREATE INDEX workspace_events_created_idx ON workspace_events (created_at);

CREATE TABLE reconciler_ticks (
  loop_name        text PRIMARY KEY,
  last_tick_at     timestamptz,
  leader_instance  text,
  last_error       text,
  items_acted      integer NOT NULL DEFAULT 0,
  duration_ms      integer NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- migrate:down
DROP TABLE reconciler_ticks;
DROP TABLE workspace_events;
DROP TABLE workspace_secrets;
DROP TABLE platform_settings;
DROP TABLE org_api_tokens;
DROP TABLE workspace_auth_tokens;
DROP TABLE workspaces;
DROP TYPE workspace_status;
