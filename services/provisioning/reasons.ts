// lastSampleError texts for failed provisioning. Generic on purpose: the daemon's own text can carry
// host paths and internals, and it goes to the server log instead.
import { statusOf } from '../runtime/docker-connection.js';
import { RuntimeUnavailable } from '../runtime/types.js';

export const NO_RUNTIME_REASON = 'no container runtime is reachable';
export const START_FAILED_REASON = 'workspace start failed';
export const IMAGE_MISSING_REASON = 'workspace image not found';
export const SECRETS_FAILED_REASON = 'failed to decrypt workspace secrets';

export class SecretsUnreadable extends Error {
  constructor(options?: { cause?: unknown }) {
    super(SECRETS_FAILED_REASON, options);
    this.name = 'SecretsUnreadable';
  }
}

export function failureReason(err: unknown): string {
  if (err instanceof RuntimeUnavailable) return NO_RUNTIME_REASON;
  if (err instanceof SecretsUnreadable) return SECRETS_FAILED_REASON;
  const message = err instanceof Error ? err.message : '';
  if (statusOf(err) === 404 && /image/i.test(message)) return IMAGE_MISSING_REASON;
  return START_FAILED_REASON;
}
