// Global setup of the `swarm` test project: the two-node swarm of private daemons (.ci/start-swarm.sh)
// is started once for all its files, unless one is already up (CI or a developer started it; then it
// is left running). Outside CI a swarm that cannot start (no root, no dockerd) makes the files skip,
// visibly, with the reason; in CI it fails the run.
import type { TestProject } from 'vitest/node';
import { readSwarmHarness, runSwarmScript, type SwarmHarness } from './swarm-script.js';

export default function setup(project: TestProject): () => void {
  const wasUp = runSwarmScript('status').ok;
  const up = wasUp ? { ok: true, output: 'already up' } : runSwarmScript('up');
  if (!up.ok && process.env.CI) throw new Error(`the two-node swarm did not start:\n${up.output}`);
  let harness: SwarmHarness = { available: false, reason: up.output };
  if (up.ok) {
    harness = readSwarmHarness();
    console.log(`swarm: ${up.output.split('\n').pop()}`);
  }
  project.provide('swarm', harness);
  return () => {
    if (up.ok && !wasUp) runSwarmScript('down');
  };
}
