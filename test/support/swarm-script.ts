// The two-node test swarm of .ci/start-swarm.sh, as the `swarm` test project's global setup and the
// Swarm benchmarks drive it: the script's commands and the state it writes ($SWARM_ROOT/state.env).
// No vitest here, so that a benchmark can use it too.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SWARM_SCRIPT = fileURLToPath(new URL('../../.ci/start-swarm.sh', import.meta.url));
/** The script's default; SWARM_ROOT (with SWARM_MANAGER_ADDR/SWARM_WORKER_ADDR) picks another swarm. */
export const SWARM_ROOT = process.env.SWARM_ROOT ?? '/tmp/molecule-swarm';

export type SwarmHarness =
  | { available: false; reason: string }
  | {
      available: true;
      managerHost: string;
      workerHost: string;
      managerNode: string;
      workerNode: string;
      /** The manager's Engine API over TLS (tcp://…), client certificates required. */
      managerTcp: string;
      /** DOCKER_CERT_PATH for managerTcp: ca.pem, cert.pem, key.pem (and untrusted-ca.pem, a CA that signed nothing here). */
      certPath: string;
      script: string;
    };
export type UpSwarm = Extract<SwarmHarness, { available: true }>;

/** Runs one command of the script (up, down, status, ...) with this process's SWARM_* variables. */
export function runSwarmScript(command: string): { ok: boolean; output: string } {
  const r = spawnSync('bash', [SWARM_SCRIPT, command], { encoding: 'utf8', timeout: 300_000 });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim() };
}

/** The swarm that is up, from its state file. */
export function readSwarmHarness(): UpSwarm {
  const s: Record<string, string> = {};
  for (const line of readFileSync(`${SWARM_ROOT}/state.env`, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) s[line.slice(0, i)] = line.slice(i + 1);
  }
  return {
    available: true,
    managerHost: s.SWARM_MANAGER_HOST!,
    workerHost: s.SWARM_WORKER_HOST!,
    managerNode: s.SWARM_MANAGER_NODE!,
    workerNode: s.SWARM_WORKER_NODE!,
    managerTcp: s.SWARM_MANAGER_TCP!,
    certPath: s.SWARM_CERT_PATH!,
    script: SWARM_SCRIPT,
  };
}

/** The worker host dies at once: dockerd, containerd and its containers (.ci/start-swarm.sh kill-worker). */
export function killWorker(h: UpSwarm): void {
  execFileSync('bash', [h.script, 'kill-worker'], { stdio: 'ignore' });
}

/** Boots the worker again on its data root and waits until the manager sees it Ready. */
export function startWorker(h: UpSwarm): void {
  // stderr kept: a failure then says why (execFileSync puts it in the error's message).
  execFileSync('bash', [h.script, 'start-worker'], { stdio: ['ignore', 'ignore', 'pipe'] });
}
