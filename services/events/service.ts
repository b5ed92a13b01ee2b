// STUB: replaced by the helper that owns this service.
import type { ServiceDeps } from '../deps.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface EventService {}

export function createEventService(_deps: ServiceDeps & object): EventService {
  return {};
}
