// Chooses the container runtime for this process. "none" follows API.md's rules for a server without a
// reachable container runtime; Docker recovers by itself once its daemon appears.
import type { Config } from '../../config.js';
import type { Logger } from '../log.js';
import { createDockerRuntime } from './docker.js';
import { createNoneRuntime } from './none.js';
import type { ContainerRuntime } from './types.js';

export function createRuntime(config: Config, log: Logger): ContainerRuntime {
  if (config.containerRuntime === 'none') return createNoneRuntime();
  return createDockerRuntime({ dockerHost: config.dockerHost, log });
}
