// STUB: replaced by the helper that owns this service.
import type { ServiceDeps } from '../deps.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface RegistryService {}

export function createRegistryService(_deps: ServiceDeps & object): RegistryService {
  return {};
}
