// `npm start` on a machine with Docker runs real agents with no set-up: when the configured image is
// the reference agent and it is missing, it is built (offline: FROM scratch plus the host's static
// busybox). Otherwise one log line says how to get it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import type { Logger } from './log.js';
import type { ContainerRuntime } from './runtime/types.js';

export const REFERENCE_AGENT_IMAGE = 'workspace-agent:latest';
const BUILD_SCRIPT = fileURLToPath(new URL('../agent/build-image.sh', import.meta.url));
const HOW_TO_BUILD = 'build it with `npm run agent:image` (needs the docker CLI and a static busybox)';

export interface AgentImageDeps {
  config: Config;
  runtime: ContainerRuntime;
  log: Logger;
}

export type AgentImageOutcome = 'not-ours' | 'no-runtime' | 'present' | 'built' | 'build-failed';

export async function ensureAgentImage(deps: AgentImageDeps): Promise<AgentImageOutcome> {
  const { config, runtime, log } = deps;
  if (config.workspaceImage !== REFERENCE_AGENT_IMAGE) return 'not-ours';
  if (runtime.kind === 'none') return 'no-runtime';
  if (!(await runtime.ping())) {
    log.warn(`no Docker daemon answers: container workspaces go FAILED until one does; ${REFERENCE_AGENT_IMAGE} is then built at the next start, or ${HOW_TO_BUILD}`);
    return 'no-runtime';
  }
  try {
    if (await runtime.imageExists(REFERENCE_AGENT_IMAGE)) return 'present';
  } catch (err) {
    log.warn({ err }, `could not check for ${REFERENCE_AGENT_IMAGE}; ${HOW_TO_BUILD}`);
    return 'build-failed';
  }
  log.info(`${REFERENCE_AGENT_IMAGE} is missing; building it (bash agent/build-image.sh)`);
  const result = await runBuild(config.dockerHost);
  if (result.ok) {
    log.info(`built ${REFERENCE_AGENT_IMAGE}`);
    return 'built';
  }
  log.warn({ output: result.output.slice(-2000) }, `could not build ${REFERENCE_AGENT_IMAGE}; ${HOW_TO_BUILD}`);
  return 'build-failed';
}

function runBuild(dockerHost: string | undefined): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    // The child inherits the environment; only DOCKER_HOST is pinned to what the server itself uses.
    const env = dockerHost ? { ...process.env, DOCKER_HOST: dockerHost } : undefined;
    let output = '';
    const child = spawn('bash', [BUILD_SCRIPT], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => resolve({ ok: false, output: String(err) }));
    child.on('close', (code) => resolve({ ok: code === 0, output }));
  });
}
