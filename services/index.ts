// Builds every service once, in dependency order. The composition root (server.ts) calls this; tests
// call it through startServer().
import { createActivityHub, type ActivityHub } from './activity/hub.js';
import type { Authenticator } from './auth/viewer.js';
import { createAuthenticator } from './auth/viewer.js';
import type { ServiceDeps } from './deps.js';
import { createEventService, type EventService } from './events/service.js';
import { createSubscriptionService, type SubscriptionService } from './events/subscriptions.js';
import { createLifecycleService, type LifecycleService } from './lifecycle/service.js';
import { createLogFollowService, type LogFollowService } from './logs/follow.js';
import { createNodeService, type NodeService } from './nodes/service.js';
import { createOrgTokenService, type OrgTokenService } from './org-tokens/service.js';
import { createReconcilers, type Reconcilers } from './reconcilers/index.js';
import { createRegistryService, type RegistryService } from './registry/service.js';
import { createSecretService, type SecretService } from './secrets/service.js';
import { createTokenService, type TokenService } from './tokens/service.js';
import { createWorkspaceService, type WorkspaceService } from './workspaces/service.js';

export interface Services {
  deps: ServiceDeps;
  auth: Authenticator;
  events: EventService;
  /** Live subscriptions over the event log (one fan-out per process). */
  subscriptions: SubscriptionService;
  /** workspaceActivity: throttled, live-only pushes after heartbeats (no event rows). */
  activity: ActivityHub;
  tokens: TokenService;
  orgTokens: OrgTokenService;
  secrets: SecretService;
  lifecycle: LifecycleService;
  workspaces: WorkspaceService;
  registry: RegistryService;
  /** Relay node lookups, visibility included. */
  nodes: NodeService;
  /** workspaceLogs: following a container's output. */
  logs: LogFollowService;
  /** The background loops (started by server.ts after listen) and their `subsystems` view. */
  reconcilers: Reconcilers;
}

export function createServices(deps: ServiceDeps, adminTokenHashes: () => readonly string[]): Services {
  const auth = createAuthenticator({ db: deps.db, adminTokenHashes });
  const events = createEventService(deps);
  const subscriptions = createSubscriptionService(deps);
  const tokens = createTokenService(deps);
  const orgTokens = createOrgTokenService(deps);
  const secrets = createSecretService(deps);
  const lifecycle = createLifecycleService({ ...deps, tokens, secrets });
  const workspaces = createWorkspaceService({ ...deps, tokens, secrets, lifecycle });
  const activity = createActivityHub({
    db: deps.db,
    log: deps.log,
    instanceId: deps.instanceId,
    intervalMs: deps.config.activityPushIntervalMs,
    bindToToken: (viewer, target) => subscriptions.bindToToken(viewer, target),
  });
  const registry = createRegistryService({ ...deps, tokens, activity });
  const reconcilers = createReconcilers({ ...deps, lifecycle, events });
  const nodes = createNodeService({ workspaces, tokens, orgTokens });
  const logs = createLogFollowService({ runtime: deps.runtime, log: deps.log, getWorkspace: (id) => workspaces.get(id) });
  return { deps, auth, events, subscriptions, activity, tokens, orgTokens, secrets, lifecycle, workspaces, registry, reconcilers, nodes, logs };
}
