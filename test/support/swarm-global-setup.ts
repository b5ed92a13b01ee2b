// Global setup of the `swarm` test project: the two-node swarm of private daemons (.ci/start-swarm.sh)
// is started once for all its files, unless one is already up (CI or a developer started it; then it
// is left running). Outside CI a swarm that cannot start (no root, no dockerd) makes the files skip,
// visibly, with the reason; in CI it fails the run.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import type { SwarmHarness } from './swarm.js';

const SCRIPT = fileURLToPath(new URL('../../.ci/start-swarm.sh', import.meta.url));
const ROOT = process.env.SWARM_ROOT ?? '/tmp/molecule-swarm';

function run(command: string): { ok: boolean; output: string } {
  const r = spawnSync('bash', [SCRIPT, command], { encoding: 'utf8', timeout: 300_000 });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim() };
}

function readState(): Record<string, string> {
  const state: Record<string, string> = {};
  for (const line of readFileSync(`${ROOT}/state.env`, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) state[line.slice(0, i)] = line.slice(i + 1);
  }
  return state;
}

export default function setup(project: TestProject): () => void {
  const wasUp = run('status').ok;
  const up = wasUp ? { ok: true, output: 'already up' } : run('up');
  if (!up.ok && process.env.CI) throw new Error(`the two-node swarm did not start:\n${up.output}`);
  let harness: SwarmHarness = { available: false, reason: up.output };
  if (up.ok) {
    const s = readState();
    harness = {
      available: true,
      managerHost: s.SWARM_MANAGER_HOST!,
      workerHost: s.SWARM_WORKER_HOST!,
      managerNode: s.SWARM_MANAGER_NODE!,
      workerNode: s.SWARM_WORKER_NODE!,
      managerTcp: s.SWARM_MANAGER_TCP!,
      certPath: s.SWARM_CERT_PATH!,
      script: SCRIPT,
    };
    console.log(`swarm: ${up.output.split('\n').pop()}`);
  }
  project.provide('swarm', harness);
  return () => {
    if (up.ok && !wasUp) run('down');
  };
}
