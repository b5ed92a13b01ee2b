// What the Swarm end-to-end tests get from the project's global setup (swarm-global-setup.ts): the
// manager's and the worker's sockets and node ids, and the worker's power switch.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inject } from 'vitest';
import { dockerClient, parseDockerHost } from '../../services/runtime/docker-connection.js';

export type SwarmHarness =
  | { available: false; reason: string }
  | { available: true; managerHost: string; workerHost: string; managerNode: string; workerNode: string; script: string };

declare module 'vitest' {
  export interface ProvidedContext {
    swarm: SwarmHarness;
  }
}

export function swarmHarness(): SwarmHarness {
  const h = inject('swarm');
  // Visible in the run's output, beside the skipped tests.
  if (!h.available) console.warn(`Swarm end-to-end tests skipped: the two-node swarm did not start:\n${h.reason}`);
  return h;
}

/** The raw client of one node's daemon, for checks the runtime does not expose. */
export function nodeClient(dockerHost: string) {
  return dockerClient(parseDockerHost(dockerHost), 30_000);
}

/** The worker host dies at once: dockerd, containerd and its containers (.ci/start-swarm.sh kill-worker). */
export function killWorker(h: Extract<SwarmHarness, { available: true }>): void {
  execFileSync('bash', [h.script, 'kill-worker'], { stdio: 'ignore' });
}

/**
 * Boots the worker again on its data root and waits until the manager sees it Ready.
 *
 * The killed containerd's pid file is removed first. In the worker's fresh PID namespace its number
 * (a small one, e.g. 8) may belong to a thread of the new dockerd, which then takes containerd for
 * "still running", waits for its socket and gives up ("timeout waiting for containerd to start"):
 * seen on a loaded machine. .ci/start-swarm.sh removes the stale dockerd pid file but not this one.
 */
export function startWorker(h: Extract<SwarmHarness, { available: true }>): void {
  if (h.workerHost.startsWith('unix:///')) rmSync(join(dirname(h.workerHost.slice('unix://'.length)), 'exec/containerd/containerd.pid'), { force: true });
  // stderr kept: a failure then says why (execFileSync puts it in the error's message).
  execFileSync('bash', [h.script, 'start-worker'], { stdio: ['ignore', 'ignore', 'pipe'] });
}
