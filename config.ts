// The only reader of process.env. Every variable of API.md's operating contract is parsed here with
// zod; a bad value fails start-up with every problem listed at once.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { isTcpDockerHost, parseDockerHost, readDockerTls, type DockerTls } from './services/runtime/docker-connection.js';
import { parsePlacement } from './services/runtime/swarm-placement.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const seconds = (def: number) => z.coerce.number().int().positive().default(def);

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  DATA_DIR: z.string().min(1).default('./.data'),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SECRETS_ENCRYPTION_KEY: z.string().optional(),
  DOCKER_HOST: z
    .string()
    .optional()
    .superRefine((raw, ctx) => {
      try {
        parseDockerHost(raw || undefined);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
  /** As for the docker CLI: any non-empty value means TLS, verified, toward a tcp:// DOCKER_HOST. */
  DOCKER_TLS_VERIFY: z.string().optional(),
  /** ca.pem, cert.pem, key.pem; default ~/.docker, as for the docker CLI. */
  DOCKER_CERT_PATH: z.string().optional(),
  DOCKER_NETWORK: z.string().min(1).default('host'),
  PLATFORM_URL: z.string().url().optional(),
  WORKSPACE_IMAGE: z.string().min(1).default('workspace-agent:latest'),
  HEARTBEAT_INTERVAL_S: seconds(30),
  LIVENESS_TIMEOUT_S: seconds(90),
  LIVENESS_SWEEP_INTERVAL_S: seconds(10),
  PROVISION_TIMEOUT_S: seconds(600),
  PROVISION_TIMEOUT_SWEEP_INTERVAL_S: seconds(30),
  ORPHAN_SWEEP_INTERVAL_S: seconds(60),
  STALE_TOKEN_GRACE_S: seconds(300),
  HEALTH_SWEEP_INTERVAL_S: seconds(15),
  HIBERNATION_SWEEP_INTERVAL_S: seconds(120),
  EVENT_RETENTION_DAYS: z.coerce.number().positive().default(30),
  REGISTRY_BOOTSTRAP: bool.default(false),
  RATE_LIMIT_PER_MIN: z.coerce.number().int().positive().default(600),
  CORS_ORIGINS: z.string().default(''),
  CORS_MAX_AGE_S: z.coerce.number().int().min(0).default(600),
  CORS_ALLOW_HEADERS: z
    .string()
    .default('')
    .refine((v) => v.split(',').every((h) => h.trim() === '' || /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(h.trim())), 'must be comma-separated header names'),
  ACTIVITY_PUSH_INTERVAL_MS: z.coerce.number().int().positive().default(1000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Which container runtime to use: docker (default), swarm (DOCKER_HOST is a Swarm manager) or none. */
  CONTAINER_RUNTIME: z.enum(['docker', 'swarm', 'none']).default('docker'),
  /** Swarm only: comma-separated placement constraints (`node.labels.pool==agents,node.role!=manager`). */
  SWARM_PLACEMENT: z
    .string()
    .default('')
    .superRefine((raw, ctx) => {
      try {
        parsePlacement(raw);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
  /** Identifies this process in provisioning claims and reconciler leadership. */
  INSTANCE_ID: z.string().optional(),
  /** Connections in the query pool; unset = 20 (services/db/client.ts DEFAULT_POOL_MAX), embedded too. */
  DATABASE_POOL_MAX: z.coerce.number().int().positive().max(1000).optional(),
  DATABASE_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  RUNTIME_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
});

export type Env = z.input<typeof EnvSchema>;

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  adminToken: string | undefined;
  secretsEncryptionKey: string | undefined;
  dockerHost: string | undefined;
  /** DOCKER_TLS_VERIFY's certificates, read at start-up; null = no TLS (unset, or a unix socket). */
  dockerTls: DockerTls | null;
  dockerNetwork: string;
  platformUrl: string | undefined;
  workspaceImage: string;
  /** WORKSPACE_IMAGE_<RUNTIME> overrides, keyed by the upper-cased variable suffix. */
  runtimeImages: Record<string, string>;
  heartbeatIntervalS: number;
  livenessTimeoutS: number;
  livenessSweepIntervalS: number;
  provisionTimeoutS: number;
  provisionTimeoutSweepIntervalS: number;
  orphanSweepIntervalS: number;
  staleTokenGraceS: number;
  healthSweepIntervalS: number;
  hibernationSweepIntervalS: number;
  eventRetentionDays: number;
  registryBootstrap: boolean;
  rateLimitPerMin: number;
  corsOrigins: string[];
  /** Access-Control-Max-Age of preflight answers. */
  corsMaxAgeS: number;
  /** Request headers allowed beyond the fixed list (lower-cased). */
  corsAllowHeaders: string[];
  /** At most one workspaceActivity delivery per workspace per this many milliseconds. */
  activityPushIntervalMs: number;
  logLevel: string;
  containerRuntime: 'docker' | 'swarm' | 'none';
  /** SWARM_PLACEMENT, one expression each (validated). */
  swarmPlacement: string[];
  instanceId: string | undefined;
  /** Query pool size per instance; undefined = the default, 20. */
  databasePoolMax: number | undefined;
  /** Longest wait for a pooled connection or one statement (not migrations or the dedicated sessions). */
  databaseTimeoutMs: number;
  /** Longest wait for one container-runtime call before the runtime counts as unreachable. */
  runtimeTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const dockerTls = dockerTlsOf(e, env);
  const runtimeImages: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('WORKSPACE_IMAGE_') && v) runtimeImages[k.slice('WORKSPACE_IMAGE_'.length)] = v;
  }
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    adminToken: e.ADMIN_TOKEN,
    secretsEncryptionKey: e.SECRETS_ENCRYPTION_KEY,
    dockerHost: e.DOCKER_HOST,
    dockerTls,
    dockerNetwork: e.DOCKER_NETWORK,
    platformUrl: e.PLATFORM_URL,
    workspaceImage: e.WORKSPACE_IMAGE,
    runtimeImages,
    heartbeatIntervalS: e.HEARTBEAT_INTERVAL_S,
    livenessTimeoutS: e.LIVENESS_TIMEOUT_S,
    livenessSweepIntervalS: e.LIVENESS_SWEEP_INTERVAL_S,
    provisionTimeoutS: e.PROVISION_TIMEOUT_S,
    provisionTimeoutSweepIntervalS: e.PROVISION_TIMEOUT_SWEEP_INTERVAL_S,
    orphanSweepIntervalS: e.ORPHAN_SWEEP_INTERVAL_S,
    staleTokenGraceS: e.STALE_TOKEN_GRACE_S,
    healthSweepIntervalS: e.HEALTH_SWEEP_INTERVAL_S,
    hibernationSweepIntervalS: e.HIBERNATION_SWEEP_INTERVAL_S,
    eventRetentionDays: e.EVENT_RETENTION_DAYS,
    registryBootstrap: e.REGISTRY_BOOTSTRAP,
    rateLimitPerMin: e.RATE_LIMIT_PER_MIN,
    corsOrigins: e.CORS_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean),
    corsMaxAgeS: e.CORS_MAX_AGE_S,
    corsAllowHeaders: e.CORS_ALLOW_HEADERS.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean),
    activityPushIntervalMs: e.ACTIVITY_PUSH_INTERVAL_MS,
    logLevel: e.LOG_LEVEL,
    containerRuntime: e.CONTAINER_RUNTIME,
    swarmPlacement: parsePlacement(e.SWARM_PLACEMENT),
    instanceId: e.INSTANCE_ID,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseTimeoutMs: e.DATABASE_TIMEOUT_MS,
    runtimeTimeoutMs: e.RUNTIME_TIMEOUT_MS,
  };
}

/**
 * DOCKER_TLS_VERIFY / DOCKER_CERT_PATH as the docker CLI reads them, for a tcp:// DOCKER_HOST: the
 * certificates are read now, so that a missing or unreadable one fails start-up with its path named
 * rather than every runtime call later. A cert path without DOCKER_TLS_VERIFY is refused too: the
 * CLI would then talk plain HTTP, which a TLS daemon answers with 400 to every call.
 */
function dockerTlsOf(e: z.output<typeof EnvSchema>, env: Record<string, string | undefined>): DockerTls | null {
  if (e.CONTAINER_RUNTIME === 'none' || !isTcpDockerHost(e.DOCKER_HOST)) return null;
  if (!e.DOCKER_TLS_VERIFY) {
    if (e.DOCKER_CERT_PATH) throw new ConfigError([`DOCKER_CERT_PATH: set, but DOCKER_TLS_VERIFY is not; set DOCKER_TLS_VERIFY=1 to reach ${e.DOCKER_HOST} with TLS, or unset DOCKER_CERT_PATH`]);
    return null;
  }
  const certPath = e.DOCKER_CERT_PATH || path.join(env.HOME ?? '', '.docker');
  try {
    return readDockerTls(certPath, (file) => readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`DOCKER_CERT_PATH: DOCKER_TLS_VERIFY is set, but ${(err as Error).message} (ca.pem, cert.pem and key.pem are needed)`]);
  }
}

/** The URL agents use to reach the server: PLATFORM_URL, else loopback on the bound port. */
export function platformUrlOf(config: Config, boundPort: number): string {
  return config.platformUrl ?? `http://127.0.0.1:${boundPort}`;
}
