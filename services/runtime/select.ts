// Chooses the container runtime for this process. "none" follows API.md's rules for a server without a
// reachable container runtime; Docker recovers by itself once its daemon appears.
import type { Config } from '../../config.js';
import type { Logger } from '../log.js';
import { withCircuit } from './circuit.js';
import { createDockerRuntime } from './docker.js';
import { createNoneRuntime } from './none.js';
import type { ContainerRuntime } from './types.js';

/** The configured runtime; `dispose` stops its background probe. */
export function createRuntime(config: Config, log: Logger): ContainerRuntime & { dispose?(): void } {
  if (config.containerRuntime === 'none') return createNoneRuntime();
  const docker = createDockerRuntime({ dockerHost: config.dockerHost, log, timeoutMs: config.runtimeTimeoutMs });
  return withCircuit(docker, { timeoutMs: config.runtimeTimeoutMs, probeIntervalMs: config.healthSweepIntervalS * 1000, log });
}
