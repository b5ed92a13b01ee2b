// Chooses the container runtime for this process. "none" follows API.md's rules for a server without a
// reachable container runtime; Docker and Swarm recover by themselves once their daemon (a manager,
// for Swarm) answers.
import type { Config } from '../../config.js';
import type { Logger } from '../log.js';
import { createDockerRuntime } from './docker.js';
import { createNoneRuntime } from './none.js';
import { createSwarmRuntime } from './swarm.js';
import type { ContainerRuntime } from './types.js';

export interface RuntimeSelection {
  /** The deployment id labels carry (Swarm puts it on services, container specs and secrets). */
  deploymentId?: string;
}

export function createRuntime(config: Config, log: Logger, opts: RuntimeSelection = {}): ContainerRuntime {
  if (config.containerRuntime === 'none') return createNoneRuntime();
  if (config.containerRuntime === 'swarm') {
    return createSwarmRuntime({ dockerHost: config.dockerHost, log, placement: config.swarmPlacement, deploymentId: opts.deploymentId });
  }
  return createDockerRuntime({ dockerHost: config.dockerHost, log });
}
