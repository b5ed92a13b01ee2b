// The asynchronous part of provisioning (DESIGN.md "Provisioning is durable and generation-guarded").
// It carries the generation the synchronous transaction wrote: claim → token → container → token
// file → start, re-checking after every step that the row is still PROVISIONING at that generation
// and claimed by us. A provisioner that lost undoes what it made (its container by id, its token)
// and stops; one that failed writes FAILED with a generic reason.
import type { Config } from '../../config.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../log.js';
import { RuntimeUnavailable, configVolumeFor, type ContainerRuntime } from '../runtime/types.js';
import type { SecretService } from '../secrets/service.js';
import type { TokenService } from '../tokens/service.js';
import { CONFIG_DIR, TOKEN_FILE, TOKEN_FILE_MODE, containerSpecFor } from './container-spec.js';
import { ForeignContainerInTheWay, NewerGenerationPresent, clearNameFor, createContainer } from './container-slot.js';
import {
  claimProvisioning,
  failProvisioning,
  issueToken,
  resetConfigRequested,
  revokeIssuedToken,
  stillCurrent,
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
  platformUrl: () => string;
  /** True once the server is shutting down: the work is left claimed for the next start. */
  stopping: () => boolean;
}

export interface ProvisionRequest {
  workspaceId: string;
  generation: number;
  resetConfig?: boolean;
  /** Start-up resume: take over a stale claim or one this instance id held before it restarted. */
  takeOver?: boolean;
}

export type ProvisionOutcome = 'started' | 'adopted' | 'lost' | 'failed' | 'not-claimed' | 'abandoned';

class Lost extends Error {}
class Abandoned extends Error {}

export async function provision(deps: ProvisionerDeps, req: ProvisionRequest): Promise<ProvisionOutcome> {
  const { db, runtime, log } = deps;
  const t: ProvisionTicket = { workspaceId: req.workspaceId, generation: req.generation, owner: deps.instanceId };
  const workspace = await claimProvisioning(db, t, req.takeOver ?? false);
  if (!workspace) return 'not-claimed';
  const plog = log.child({ workspaceId: t.workspaceId, generation: t.generation });

  let containerId: string | null = null;
  let tokenId: string | null = null;
  /** After each step: still ours? (and not shutting down) */
  const checkpoint = async () => {
    if (deps.stopping()) throw new Abandoned();
    if (!(await stillCurrent(db.prisma, t))) throw new Lost();
  };

  try {
    if (!runtime.available() && !(await runtime.ping())) throw new RuntimeUnavailable();
    const secrets = await deps.secrets.decryptAll(t.workspaceId).catch((cause: unknown) => {
      throw new SecretsUnreadable({ cause });
    });
    const existing = await clearNameFor(runtime, t.workspaceId, t.generation);
    if (existing.kind === 'own-running') {
      plog.info('resumed provisioning found its container running; adopting it');
      return 'adopted';
    }
    const reset = req.resetConfig || (req.takeOver === true && (await resetConfigRequested(db, t)));
    if (reset) await runtime.removeVolume(configVolumeFor(t.workspaceId));
    await checkpoint();

    const issued = await issueToken(db, deps.tokens, t, req.takeOver ? workspace.statusChangedAt : null);
    if (!issued) throw new Lost();
    tokenId = issued.tokenId;

    const spec = containerSpecFor({ workspace, generation: t.generation, secrets, config: deps.config, platformUrl: deps.platformUrl() });
    containerId = await createContainer(runtime, spec, t.workspaceId, t.generation);
    await checkpoint();
    await runtime.writeFile(containerId, CONFIG_DIR, TOKEN_FILE, issued.token, TOKEN_FILE_MODE);
    await checkpoint();
    await runtime.start(containerId);
    await checkpoint();
    plog.info({ containerId, startedAtMs: performance.timeOrigin + performance.now() }, 'workspace container started');
    return 'started';
  } catch (err) {
    if (err instanceof Abandoned) {
      plog.info('server stopping; provisioning left for the next start');
      return 'abandoned';
    }
    const lost = err instanceof Lost || err instanceof NewerGenerationPresent || !(await stillCurrent(db.prisma, t).catch(() => true));
    await undo(deps, t, containerId, tokenId, plog);
    if (lost) {
      plog.debug('provisioning superseded; undid its work');
      return 'lost';
    }
    const reason = err instanceof ForeignContainerInTheWay ? `a container named ${err.containerName} that this server does not manage is in the way` : failureReason(err);
    plog.warn({ err, reason }, 'provisioning failed');
    await failProvisioning(db, t, reason).catch((e: unknown) => plog.error({ err: e }, 'could not record the provisioning failure'));
    return 'failed';
  }
}

async function undo(deps: ProvisionerDeps, t: ProvisionTicket, containerId: string | null, tokenId: string | null, log: Logger): Promise<void> {
  if (containerId) {
    await deps.runtime.remove(containerId, { force: true }).catch((err: unknown) => log.warn({ err, containerId }, 'could not remove a discarded container; the orphan sweeper will'));
  }
  if (tokenId) {
    await revokeIssuedToken(deps.db, t.workspaceId, tokenId).catch((err: unknown) => log.warn({ err }, 'could not revoke a discarded token'));
  }
}
