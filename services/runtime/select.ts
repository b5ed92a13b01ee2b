// Chooses the container runtime for this process. "none" follows API.md's rules for a server without a
// reachable container runtime; Docker and Swarm recover by themselves once their daemon (a manager,
// for Swarm) answers.
import type { Config } from '../../config.js';
import type { Logger } from '../log.js';
import { withCircuit } from './circuit.js';
import { createDockerRuntime } from './docker.js';
import { createNoneRuntime } from './none.js';
import { createSwarmRuntime } from './swarm.js';
import type { ContainerRuntime } from './types.js';

export interface RuntimeSelection {
  /** The deployment id labels carry (Swarm puts it on services, container specs and secrets). */
  deploymentId?: string;
}

/**
 * The configured runtime behind the circuit of API.md's "Outages" (circuit.ts); `dispose` stops its
 * background probe.
 */
export function createRuntime(config: Config, log: Logger, opts: RuntimeSelection = {}): ContainerRuntime & { dispose?(): void } {
  if (config.containerRuntime === 'none') return createNoneRuntime();
  const inner =
    config.containerRuntime === 'swarm'
      ? createSwarmRuntime({
          dockerHost: config.dockerHost,
          dockerTls: config.dockerTls,
          log,
          placement: config.swarmPlacement,
          deploymentId: opts.deploymentId,
          startWaitMs: swarmStartWaitMs(config.runtimeTimeoutMs),
        })
      : createDockerRuntime({ dockerHost: config.dockerHost, dockerTls: config.dockerTls, log, timeoutMs: config.runtimeTimeoutMs });
  return withCircuit(inner, { timeoutMs: config.runtimeTimeoutMs, probeIntervalMs: config.healthSweepIntervalS * 1000, log });
}

/**
 * How long the Swarm runtime's start() waits for its task to run: 3 s, but never more than half of
 * RUNTIME_TIMEOUT_MS. The circuit takes a start() that outlasts RUNTIME_TIMEOUT_MS for a hung daemon, and
 * a task merely waiting for a node with room must not open it; the wait plus its two calls stays inside.
 */
export function swarmStartWaitMs(runtimeTimeoutMs: number): number {
  return Math.min(3_000, Math.floor(runtimeTimeoutMs / 2));
}
