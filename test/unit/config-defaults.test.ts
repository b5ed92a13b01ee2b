// The defaults of API.md's operating contract, as config.ts applies them to an empty environment, and
// the ones applied later where the value depends on the running server (PLATFORM_URL's bound port,
// INSTANCE_ID, DATABASE_POOL_MAX's pool). A default changed in one place and not the other fails here.
import { describe, expect, it } from 'vitest';
import { loadConfig, platformUrlOf } from '../../config.js';
import { DEFAULT_POOL_MAX } from '../../services/db/client.js';

describe('configuration defaults (API.md "Operating contract")', () => {
  const c = loadConfig({});

  it('applies every documented default', () => {
    expect({
      PORT: c.port,
      HOST: c.host,
      DATABASE_URL: c.databaseUrl,
      DATA_DIR: c.dataDir,
      ADMIN_TOKEN: c.adminToken,
      SECRETS_ENCRYPTION_KEY: c.secretsEncryptionKey,
      DOCKER_HOST: c.dockerHost,
      DOCKER_NETWORK: c.dockerNetwork,
      WORKSPACE_IMAGE: c.workspaceImage,
      HEARTBEAT_INTERVAL_S: c.heartbeatIntervalS,
      LIVENESS_TIMEOUT_S: c.livenessTimeoutS,
      LIVENESS_SWEEP_INTERVAL_S: c.livenessSweepIntervalS,
      PROVISION_TIMEOUT_S: c.provisionTimeoutS,
      PROVISION_TIMEOUT_SWEEP_INTERVAL_S: c.provisionTimeoutSweepIntervalS,
      ORPHAN_SWEEP_INTERVAL_S: c.orphanSweepIntervalS,
      STALE_TOKEN_GRACE_S: c.staleTokenGraceS,
      HEALTH_SWEEP_INTERVAL_S: c.healthSweepIntervalS,
      HIBERNATION_SWEEP_INTERVAL_S: c.hibernationSweepIntervalS,
      EVENT_RETENTION_DAYS: c.eventRetentionDays,
      REGISTRY_BOOTSTRAP: c.registryBootstrap,
      RATE_LIMIT_PER_MIN: c.rateLimitPerMin,
      CORS_ORIGINS: c.corsOrigins,
      CORS_MAX_AGE_S: c.corsMaxAgeS,
      CORS_ALLOW_HEADERS: c.corsAllowHeaders,
      ACTIVITY_PUSH_INTERVAL_MS: c.activityPushIntervalMs,
      CONTAINER_RUNTIME: c.containerRuntime,
      SWARM_PLACEMENT: c.swarmPlacement,
      LOG_LEVEL: c.logLevel,
      INSTANCE_ID: c.instanceId,
      DATABASE_TIMEOUT_MS: c.databaseTimeoutMs,
      RUNTIME_TIMEOUT_MS: c.runtimeTimeoutMs,
    }).toEqual({
      PORT: 4000,
      HOST: '127.0.0.1',
      DATABASE_URL: undefined, // the embedded PostgreSQL
      DATA_DIR: './.data',
      ADMIN_TOKEN: undefined, // generated at first start
      SECRETS_ENCRYPTION_KEY: undefined, // generated into DATA_DIR in embedded mode
      DOCKER_HOST: undefined, // the local Docker socket
      DOCKER_NETWORK: 'host',
      WORKSPACE_IMAGE: 'workspace-agent:latest',
      HEARTBEAT_INTERVAL_S: 30,
      LIVENESS_TIMEOUT_S: 90,
      LIVENESS_SWEEP_INTERVAL_S: 10,
      PROVISION_TIMEOUT_S: 600,
      PROVISION_TIMEOUT_SWEEP_INTERVAL_S: 30,
      ORPHAN_SWEEP_INTERVAL_S: 60,
      STALE_TOKEN_GRACE_S: 300,
      HEALTH_SWEEP_INTERVAL_S: 15,
      HIBERNATION_SWEEP_INTERVAL_S: 120,
      EVENT_RETENTION_DAYS: 30,
      REGISTRY_BOOTSTRAP: false,
      RATE_LIMIT_PER_MIN: 600,
      CORS_ORIGINS: [],
      CORS_MAX_AGE_S: 600,
      CORS_ALLOW_HEADERS: [],
      ACTIVITY_PUSH_INTERVAL_MS: 1000,
      CONTAINER_RUNTIME: 'docker',
      SWARM_PLACEMENT: [],
      LOG_LEVEL: 'info',
      INSTANCE_ID: undefined, // random per start
      DATABASE_TIMEOUT_MS: 5000,
      RUNTIME_TIMEOUT_MS: 5000,
    });
  });

  it('gives DATABASE_POOL_MAX 20 and PLATFORM_URL the loopback address of the bound port', () => {
    expect(c.databasePoolMax ?? DEFAULT_POOL_MAX).toBe(20);
    expect(platformUrlOf(c, 4321)).toBe('http://127.0.0.1:4321');
  });
});
