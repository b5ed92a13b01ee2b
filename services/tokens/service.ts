// STUB: replaced by the helper that owns this service.
import type { ServiceDeps } from '../deps.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface TokenService {}

export function createTokenService(_deps: ServiceDeps & object): TokenService {
  return {};
}
