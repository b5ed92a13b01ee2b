// The workspace lifecycle: restart, pause, resume, hibernate, auto-restart and the hand-offs from
// create and delete. Each operation's synchronous part is one transaction (the status rules of
// API.md, checked in its order); container work happens in the asynchronous provisioner or after the
// commit. Operations live in their own files; this one wires them.
import { isContainerWorkspace, type WorkspaceRecord } from '../workspaces/record.js';
import { createProvisioningQueue, type ProvisioningQueue } from '../provisioning/queue.js';
import type { ProvisionOutcome, ProvisionRequest } from '../provisioning/provisioner.js';
import { autoRestartWorkspace, reprovisionAfterRuntimeOutage } from './auto-restart.js';
import { containerLogs, containersFor, type ContainerView } from './container-view.js';
import { removeWorkspaceResources } from './containers.js';
import type { LifecycleContext, LifecycleDeps } from './context.js';
import { hibernateWorkspace } from './hibernate.js';
import { pauseWorkspace } from './pause.js';
import { restartWorkspace } from './restart.js';
import { resumeWorkspace } from './resume.js';

export type { ContainerView };

export interface LifecycleService {
  /** After createWorkspace committed a container workspace as PROVISIONING (generation 1): provision it. */
  provisionCreated(workspace: WorkspaceRecord): void;
  /** After deleteWorkspace committed REMOVED for these workspaces: remove containers, then volumes. */
  cleanupRemoved(workspaceIds: string[]): void;
  /** restartWorkspace; throws NotFound/Conflict/ParentPaused/RuntimeUnavailable errors. */
  restart(id: string, opts?: { resetConfig?: boolean }): Promise<WorkspaceRecord>;
  pause(id: string): Promise<{ workspace: WorkspaceRecord; pausedCount: number }>;
  resume(id: string): Promise<{ workspace: WorkspaceRecord; resumedCount: number }>;
  hibernate(id: string, opts?: { force?: boolean; source?: 'mutation' | 'idle' }): Promise<WorkspaceRecord>;
  /** Health sweep: OFFLINE container workspace → PROVISIONING, or FAILED on the 6th restart in 10 min. */
  autoRestart(id: string): Promise<'restarted' | 'failed' | 'skipped'>;
  /** Health sweep, runtime reachable: FAILED only for want of a runtime → PROVISIONING. */
  reprovisionAfterRuntimeOutage(id: string): Promise<boolean>;
  /**
   * At start-up: take over provisioning a crashed process or a dead instance left unfinished, then keep
   * doing so (every instance watches for stale claims).
   */
  resumePending(): Promise<void>;
  /** Stops background provisioning work (shutdown). */
  stop(): Promise<void>;
  /** Workspace.container for a batch of workspace ids (one runtime call per batch). */
  containers(workspaceIds: readonly string[]): Promise<(ContainerView | null)[]>;
  /** Workspace.logs: a container's recent output (tail clamped to 0..10,000 lines); null when gone. */
  containerLogs(containerId: string, tail: number): Promise<string | null>;
  /** Resolves once no provisioning or cleanup is queued or running (tests, benchmarks). */
  idle(): Promise<void>;
}

export interface LifecycleOptions {
  /** Observes each finished provisioning (tests, benchmarks). */
  onProvisioned?: (req: ProvisionRequest, outcome: ProvisionOutcome) => void;
}

export function createLifecycleService(deps: LifecycleDeps, opts: LifecycleOptions = {}): LifecycleService {
  const { log } = deps;
  const queue: ProvisioningQueue = createProvisioningQueue({ ...deps, onOutcome: opts.onProvisioned });
  const chores = new Set<Promise<void>>();
  let stopped = false;

  const ctx: LifecycleContext = {
    ...deps,
    provisioningBegan(workspace, o) {
      log.info({ workspaceId: workspace.id, generation: workspace.generation, committedAtMs: performance.timeOrigin + performance.now() }, 'provisioning requested');
      queue.schedule({ workspaceId: workspace.id, generation: workspace.generation, resetConfig: o?.resetConfig });
    },
    background(name, fn) {
      if (stopped) return;
      const p = fn()
        .catch((err: unknown) => log.warn({ err }, `${name} failed`))
        .finally(() => chores.delete(p));
      chores.add(p);
    },
  };

  return {
    provisionCreated(workspace) {
      if (!isContainerWorkspace(workspace) || workspace.status !== 'PROVISIONING') return;
      ctx.provisioningBegan(workspace);
    },
    cleanupRemoved(workspaceIds) {
      if (workspaceIds.length === 0) return;
      // Without a runtime there is nothing to ask; the orphan sweeper reaps once one answers.
      if (deps.runtime.kind === 'none' || !deps.runtime.available()) return;
      ctx.background('cleanup of removed workspaces', () => removeWorkspaceResources(deps.runtime, workspaceIds, log));
    },
    restart: (id, o) => restartWorkspace(ctx, id, o ?? {}),
    pause: (id) => pauseWorkspace(ctx, id),
    resume: (id) => resumeWorkspace(ctx, id),
    hibernate: (id, o) => hibernateWorkspace(ctx, id, o ?? {}),
    autoRestart: (id) => autoRestartWorkspace(ctx, id),
    reprovisionAfterRuntimeOutage: (id) => reprovisionAfterRuntimeOutage(ctx, id),
    async resumePending() {
      await queue.resumePending();
    },
    async stop() {
      stopped = true;
      await Promise.all([queue.stop(), Promise.allSettled([...chores])]);
    },
    containers: (ids) => containersFor(deps.runtime, log, ids),
    containerLogs: (containerId, tail) => containerLogs(deps.runtime, log, containerId, tail),
    async idle() {
      await queue.idle();
      while (chores.size > 0) await Promise.allSettled([...chores]);
      await queue.idle();
    },
  };
}
