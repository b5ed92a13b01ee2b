// Composition root: config → db → keys → runtime → services → http/ws → background loops.
// `npm start` runs main(); tests call startServer() with their own config.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { loadConfig, platformUrlOf, type Config } from './config.js';
import { createHttpApp } from './http/server.js';
import { attachWebSocket } from './http/websocket.js';
import { readDeploymentId, setupAdminToken, setupSecretsKey } from './services/auth/platform-keys.js';
import { createDatabase, DEFAULT_POOL_MAX, type Database } from './services/db/client.js';
import { EMBEDDED_EXTRA_CONNECTIONS, startEmbeddedPostgres, type EmbeddedPostgres } from './services/db/embedded.js';
import { migrate } from './services/db/migrate.js';
import { ACTIVITY_CHANNEL } from './services/activity/hub.js';
import { createEventListener, listenerApplicationName } from './services/events/listener.js';
import { createServices, type Services } from './services/index.js';
import { createLogger, type Logger } from './services/log.js';
import { createRuntime } from './services/runtime/select.js';
import type { ContainerRuntime } from './services/runtime/types.js';
import { ensureAgentImage } from './services/agent-image.js';

export interface RunningServer {
  url: string;
  port: number;
  services: Services;
  db: Database;
  config: Config;
  /** Set when this start generated the admin token. */
  generatedAdminToken?: string;
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** A runtime to use instead of the configured one (tests pass the in-memory fake). */
  runtime?: ContainerRuntime;
  /** Build the reference agent image when it is missing (npm start). */
  ensureAgentImage?: boolean;
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? createLogger(config.logLevel);
  const instanceId = config.instanceId ?? `instance-${randomUUID().slice(0, 8)}`;
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch((err) => log.warn({ err }, 'shutdown step failed'));
  };

  try {
    let url = config.databaseUrl;
    let embedded: EmbeddedPostgres | undefined;
    if (!url) {
      embedded = await startEmbeddedPostgres(config.dataDir, (config.databasePoolMax ?? DEFAULT_POOL_MAX) + EMBEDDED_EXTRA_CONNECTIONS);
      closers.push(() => embedded!.stop());
      url = embedded.url;
      log.info({ dataDir: config.dataDir }, 'using the embedded PostgreSQL (PGlite); set DATABASE_URL for a real server');
    }
    await migrate(url);
    const db = createDatabase({
      url,
      embedded: !!embedded,
      poolSize: config.databasePoolMax,
      timeoutMs: config.databaseTimeoutMs,
      applicationName: `ws-pool:${instanceId}`,
      onPoolError: (err) => log.warn({ err }, 'idle database connection failed'),
    });
    closers.push(() => db.close());

    const admin = await setupAdminToken(db, { adminToken: config.adminToken, dataDir: config.dataDir });
    const secretsKey = await setupSecretsKey(db, { secretsKey: config.secretsEncryptionKey, dataDir: config.dataDir, embedded: !!embedded });
    const deploymentId = await readDeploymentId(db);

    const created = opts.runtime ? null : createRuntime(config, log, { deploymentId });
    const runtime = opts.runtime ?? created!;
    if (created?.dispose) closers.push(async () => created.dispose!());
    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    let boundPort = config.port;
    const services = createServices(
      { config, db, runtime, log, instanceId, deploymentId, secretsKey, metrics, platformUrl: () => platformUrlOf(config, boundPort) },
      () => admin.hashes,
    );

    const app = createHttpApp(services);
    await new Promise<void>((resolve, reject) => {
      app.server.once('error', reject);
      app.server.listen(config.port, config.host, () => resolve());
    });
    boundPort = (app.server.address() as AddressInfo).port;
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          app.server.close(() => resolve());
          app.server.closeAllConnections();
        }),
    );
    // -- background work (subscriptions transport, provisioning resume, reconcilers) registers below --
    // Live subscriptions: local commits wake the fan-out in-process; on a PostgreSQL server, LISTEN
    // (its own connection) wakes it for other instances' commits. WebSocket shares the HTTP port.
    db.setEventWake((maxId) => services.subscriptions.wake(maxId));
    await services.subscriptions.start();
    closers.push(() => services.subscriptions.stop());
    closers.push(async () => services.activity.stop());
    if (!db.embedded) {
      const listener = createEventListener({
        url: db.url,
        applicationName: listenerApplicationName(instanceId),
        log,
        wake: (maxId) => services.subscriptions.wake(maxId),
        channels: { [ACTIVITY_CHANNEL]: (payload) => services.activity.received(payload) },
      });
      await listener.start();
      closers.push(() => listener.stop());
    }
    const webSocket = attachWebSocket(app.server, app.yoga, services);
    closers.push(() => webSocket.close());
    closers.push(() => services.lifecycle.stop());
    await runtime.ping();
    if (opts.ensureAgentImage) await ensureAgentImage({ config, runtime, log });
    // Provisioning a crashed process (or a dead instance) left unfinished is taken up now.
    await services.lifecycle.resumePending();
    // Reconcilers: one instance leads each loop (a lone or embedded one leads all five); the orphan
    // sweeper's first cycle starts now. Stopped first on close, before the work they call into.
    await services.reconcilers.start();
    closers.push(() => services.reconcilers.stop());

    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const serverUrl = `http://${host}:${boundPort}`;
    log.info({ url: `${serverUrl}/graphql`, instanceId, deploymentId }, 'workspace server listening');
    if (admin.generatedPlaintext) {
      // Printed once, on the start that generated it; it is also in DATA_DIR/admin-token (0600).
      process.stdout.write(
        `\nAdmin token generated and saved to ${admin.file} (mode 0600). Use it as:\n` +
          `Authorization: Bearer ${admin.generatedPlaintext}\n\n`,
      );
    }
    return { url: serverUrl, port: boundPort, services, db, config, generatedAdminToken: admin.generatedPlaintext, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const server = await startServer(config, { log, ensureAgentImage: true });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
