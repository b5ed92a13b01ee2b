import type { Viewer } from '../services/auth/viewer.js';
import type { Services } from '../services/index.js';

export interface GraphQLContext {
  viewer: Viewer;
  services: Services;
  requestId: string;
  /** The TCP peer's address: rate limits are per client IP. */
  clientIp: string;
}
