// STUB: replaced by the helper that owns this service.
import type { ServiceDeps } from '../deps.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface OrgTokenService {}

export function createOrgTokenService(_deps: ServiceDeps & object): OrgTokenService {
  return {};
}
