// The asynchronous part of provisioning (DESIGN.md "Provisioning is durable and generation-guarded").
// It carries the generation the synchronous transaction wrote: claim → token (beside the removal of
// the older container) → container → token file → start. Every step is checked by a guarded
// statement that the row is still PROVISIONING at that generation and claimed by us (the token's
// own transaction, then a claim refresh with the file write and after the start). A provisioner
// that lost undoes what it made (its container by id, its token) and stops; one that failed writes
// FAILED with a generic reason. A transient failure (the database unreachable, the daemon answering
// 5xx) is not a failure of the workspace: the provisioner undoes its work, keeps its claim, and the
// queue retries it with backoff (never FAILED with a reason that names something else).
import type { Config } from '../../config.js';
import type { Database } from '../db/client.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import type { Logger } from '../log.js';
import { statusOf } from '../runtime/docker-connection.js';
import { RuntimeUnavailable, configVolumeFor, type ContainerRuntime } from '../runtime/types.js';
import type { SecretService } from '../secrets/service.js';
import type { TokenService } from '../tokens/service.js';
import type { WorkspaceRecord } from '../workspaces/record.js';
import { CONFIG_DIR, TOKEN_FILE, TOKEN_FILE_MODE, containerSpecFor } from './container-spec.js';
import { ForeignContainerInTheWay, NewerGenerationPresent, clearNameFor, createContainer } from './container-slot.js';
import {
  claimProvisioning,
  failProvisioning,
  issueToken,
  provisioningBeganAt,
  resetConfigRequested,
  revokeIssuedToken,
  startConfirmed,
  stillCurrent,
  type ClaimMode,
  type IssuedForProvisioning,
  type ProvisionTicket,
} from './guard.js';
import { SecretsUnreadable, failureReason } from './reasons.js';

export interface ProvisionerDeps {
  db: Database;
  runtime: ContainerRuntime;
  config: Config;
  log: Logger;
  tokens: TokenService;
  secrets: SecretService;
  instanceId: string;
  deploymentId: string;
  platformUrl: () => string;
  /** True once the server is shutting down: the work is left claimed for the next start. */
  stopping: () => boolean;
}

export interface ProvisionRequest {
  workspaceId: string;
  generation: number;
  resetConfig?: boolean;
  /** How to claim the work (default `fresh`: right after the commit). */
  claim?: ClaimMode;
  /** Transient failures so far (the queue's retries). */
  attempt?: number;
}

/** `retry`: a transient failure; the claim is kept and the queue runs it again after a backoff. */
export type ProvisionOutcome = 'started' | 'adopted' | 'lost' | 'failed' | 'not-claimed' | 'abandoned' | 'retry';

/** Daemon errors (5xx answers) retried before the workspace goes FAILED. */
export const MAX_RUNTIME_RETRIES = 4;

/** Worth another attempt: the database could not be reached, or the daemon answered with a 5xx. */
export function isTransientFailure(err: unknown, attempt: number): boolean {
  if (isDatabaseUnavailable(err)) return true;
  const status = statusOf(err) ?? statusOf((err as { cause?: unknown } | null)?.cause);
  return status !== undefined && status >= 500 && attempt < MAX_RUNTIME_RETRIES;
}

class Lost extends Error {}
class Abandoned extends Error {}

/** The claim, taken by the queue before the work waits for a slot. */
export function claimWork(deps: Pick<ProvisionerDeps, 'db' | 'instanceId'>, req: ProvisionRequest): Promise<WorkspaceRecord | null> {
  return claimProvisioning(deps.db, { workspaceId: req.workspaceId, generation: req.generation, owner: deps.instanceId }, req.claim ?? { kind: 'fresh' });
}

/** Provisions work this instance has claimed (`workspace` is the row as the claim returned it). */
export async function provision(deps: ProvisionerDeps, req: ProvisionRequest, workspace: WorkspaceRecord): Promise<ProvisionOutcome> {
  const { db, runtime, log } = deps;
  const t: ProvisionTicket = { workspaceId: req.workspaceId, generation: req.generation, owner: deps.instanceId };
  /** Work an earlier attempt (ours or a dead instance's) may have left half done. */
  const resuming = (req.claim?.kind ?? 'fresh') !== 'fresh';
  const plog = log.child({ workspaceId: t.workspaceId, generation: t.generation });

  let containerId: string | null = null;
  let tokenId: string | null = null;
  /** After each step: still ours? (and not shutting down) */
  const checkpoint = async () => {
    if (deps.stopping()) throw new Abandoned();
    if (!(await stillCurrent(db.prisma, t))) throw new Lost();
  };

  let tokenP: Promise<IssuedForProvisioning | null> | null = null;
  let containerStarted = false;
  try {
    if (!runtime.available() && !(await runtime.ping())) throw new RuntimeUnavailable();
    // Restart latency is mostly daemon round trips, so the database work runs beside them: the old
    // generation's container goes while the token is minted and the secrets are read. A resumed
    // provisioning first looks whether its own container already runs (then it adopts it).
    const clearing = handled(clearNameFor(runtime, t.workspaceId, t.generation));
    if (resuming && (await clearing).kind === 'own-running') {
      plog.info('resumed provisioning found its container running; adopting it');
      // From now on the work is the agent's: no more renewals, and the takeover loop knows it started.
      await startConfirmed(db.prisma, t).catch((err: unknown) => plog.warn({ err }, 'could not record the adopted start'));
      return 'adopted';
    }
    tokenP = handled(
      issueToken(db, deps.tokens, t, resuming ? provisioningBeganAt(workspace) : null).then((issued) => {
        tokenId = issued?.tokenId ?? null;
        return issued;
      }),
    );
    const secretsP = deps.secrets.decryptAll(t.workspaceId).catch((cause: unknown) => {
      // Only a secret that cannot be decrypted is a decryption failure: the database being out of
      // reach during the read is an outage, retried like any other.
      if (isDatabaseUnavailable(cause)) throw cause;
      throw new SecretsUnreadable({ cause });
    });
    const [secrets] = await Promise.all([secretsP, clearing]);
    const reset = req.resetConfig || (resuming && (await resetConfigRequested(db, t)));
    if (reset) await runtime.removeVolume(configVolumeFor(t.workspaceId));

    const spec = containerSpecFor({
      workspace,
      generation: t.generation,
      secrets,
      config: deps.config,
      platformUrl: deps.platformUrl(),
      deploymentId: deps.deploymentId,
    });
    containerId = await createContainer(runtime, spec, t.workspaceId, t.generation);
    const issued = await tokenP;
    if (!issued) throw new Lost();
    await Promise.all([runtime.writeFile(containerId, CONFIG_DIR, TOKEN_FILE, issued.token, TOKEN_FILE_MODE), checkpoint()]);
    await runtime.start(containerId);
    const startedAtMs = performance.timeOrigin + performance.now();
    containerStarted = true;
    if (!(await startConfirmed(db.prisma, t))) throw new Lost();
    plog.info({ containerId, startedAtMs }, 'workspace container started');
    return 'started';
  } catch (err) {
    if (err instanceof Abandoned) {
      plog.info('server stopping; provisioning left for the next start');
      return 'abandoned';
    }
    if (containerStarted && !(err instanceof Lost)) {
      // The agent runs; a failure to confirm it is the liveness and timeout loops' business.
      plog.warn({ err }, 'could not confirm the started container');
      return 'started';
    }
    // The token may still be on its way: wait for it, so the undo knows what to revoke.
    await tokenP?.catch(() => null);
    const transient = isTransientFailure(err, req.attempt ?? 0);
    const lost =
      err instanceof Lost ||
      err instanceof NewerGenerationPresent ||
      (!transient && !(await stillCurrent(db.prisma, t).catch(() => true)));
    await undo(deps, t, containerId, tokenId, plog);
    if (lost) {
      plog.debug('provisioning superseded; undid its work');
      return 'lost';
    }
    if (transient) {
      plog.warn({ err, attempt: req.attempt ?? 0 }, 'provisioning interrupted by a transient error; it will be retried');
      return 'retry';
    }
    const reason = err instanceof ForeignContainerInTheWay ? `a container named ${err.containerName} that this server does not manage is in the way` : failureReason(err);
    plog.warn({ err, reason }, 'provisioning failed');
    try {
      await failProvisioning(db, t, reason);
    } catch (e) {
      if (isDatabaseUnavailable(e)) return 'retry';
      plog.error({ err: e }, 'could not record the provisioning failure');
    }
    return 'failed';
  }
}

/** Marks a promise as handled now (it is awaited later), so an early rejection is not "unhandled". */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

async function undo(deps: ProvisionerDeps, t: ProvisionTicket, containerId: string | null, tokenId: string | null, log: Logger): Promise<void> {
  if (containerId) {
    await deps.runtime.remove(containerId, { force: true }).catch((err: unknown) => log.warn({ err, containerId }, 'could not remove a discarded container; the orphan sweeper will'));
  }
  if (tokenId) {
    await revokeIssuedToken(deps.db, t.workspaceId, tokenId).catch((err: unknown) => log.warn({ err }, 'could not revoke a discarded token'));
  }
}
