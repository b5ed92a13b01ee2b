// What every service factory may be handed. Services take their dependencies explicitly so tests pass
// real databases and fake runtimes, never mocks of Prisma (DESIGN.md).
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Database } from './db/client.js';
import type { Logger } from './log.js';
import type { ContainerRuntime } from './runtime/types.js';

export interface ServiceDeps {
  config: Config;
  db: Database;
  runtime: ContainerRuntime;
  log: Logger;
  /** Identifies this process in provisioning claims and reconciler leadership. */
  instanceId: string;
  /**
   * This deployment's id (one per database, shared by every instance): every container, volume (and, on
   * Swarm, service and secret) is labeled with it, and sweepers touch only resources that carry it.
   */
  deploymentId: string;
  /** The 32-byte AES-256-GCM key for workspace secrets. */
  secretsKey: Buffer;
  /** The URL agents are told to reach the server at (known once the HTTP server is bound). */
  platformUrl: () => string;
  /** This server's Prometheus registry (one per server, so several servers can share a process). */
  metrics: Registry;
}
