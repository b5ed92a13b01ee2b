// A Docker daemon of the test's own (own socket, data root and exec root), for the reconciler
// end-to-end tests. Two reasons: an orphan sweeper reaps every labeled container without a row in its
// database, which on the shared daemon would include other test files' containers; and a daemon
// restart must be real (its containers die with it, its event stream ends) without taking the shared
// daemon down. Same flags as .ci/start-docker.sh; overlay2 first, vfs when the kernel refuses it.
// The agent image is copied in from the shared daemon (`docker save | docker load`: no registry).
import { execFileSync, execSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createDockerRuntime } from '../../services/runtime/docker.js';
import { dockerClient, parseDockerHost } from '../../services/runtime/docker-connection.js';

export interface PrivateDockerd {
  dockerHost: string;
  /** The raw client of this daemon, for checks and set-ups the server does not do. */
  api: ReturnType<typeof dockerClient>;
  /** Stops the daemon (its containers die with it) and starts it again on the same socket. */
  restart(): Promise<void>;
  /** Removes every container and volume of this daemon. */
  wipe(): Promise<void>;
  containerExists(name: string): Promise<boolean>;
  volumeExists(name: string): Promise<boolean>;
  dispose(): Promise<void>;
}

/** Whether an inspect found its object (any error counts as not found: these are test checks). */
const answers = (inspect: Promise<unknown>): Promise<boolean> => inspect.then(() => true, () => false);

function dockerdPath(): string {
  for (const p of ['/usr/sbin/dockerd', '/usr/bin/dockerd']) {
    try {
      execFileSync(p, ['--version'], { stdio: 'ignore' });
      return p;
    } catch {
      // try the next
    }
  }
  return 'dockerd';
}

export async function startPrivateDockerd(image: string, sourceDockerHost: string | undefined): Promise<PrivateDockerd> {
  // Short: the containerd socket lives under the exec root and unix socket paths are limited.
  const root = mkdtempSync('/tmp/pdk-');
  const dockerHost = `unix://${root}/docker.sock`;
  const ping = () => createDockerRuntime({ dockerHost }).ping();
  let child: ChildProcess | null = null;
  let storage: string[] = [];

  async function up(timeoutMs: number): Promise<boolean> {
    child = spawn(
      dockerdPath(),
      ['--bridge=none', '--iptables=false', '--data-root', `${root}/data`, '--exec-root', `${root}/exec`, '--pidfile', `${root}/dockerd.pid`, '-H', dockerHost, ...storage],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) return false;
      if (await ping()) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }

  async function down(): Promise<void> {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }

  if (!(await up(20_000))) {
    await down();
    storage = ['--storage-driver', 'vfs'];
    if (!(await up(60_000))) {
      await down();
      throw new Error(`the private dockerd did not start (root ${root})`);
    }
  }
  const source = sourceDockerHost ? ['-H', sourceDockerHost] : [];
  execSync(`docker ${source.join(' ')} save ${image} | docker -H ${dockerHost} load`, { stdio: 'ignore', shell: '/bin/bash' });
  const api = dockerClient(parseDockerHost(dockerHost), 30_000);
  async function wipe(): Promise<void> {
    for (const c of await api.listContainers({ all: true })) await api.getContainer(c.Id).remove({ force: true }).catch(() => {});
    const { Volumes } = await api.listVolumes();
    for (const v of Volumes ?? []) await api.getVolume(v.Name).remove().catch(() => {});
  }

  return {
    dockerHost,
    api,
    async restart() {
      await down();
      if (!(await up(60_000))) throw new Error('the private dockerd did not come back');
    },
    wipe,
    containerExists: (name) => answers(api.getContainer(name).inspect()),
    volumeExists: (name) => answers(api.getVolume(name).inspect()),
    async dispose() {
      await wipe().catch(() => {});
      await down();
      // The daemon leaves its namespaces and data root mounted under root.
      const mounts = readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[1] ?? '')
        .filter((m) => m.startsWith(root))
        .sort((a, b) => b.length - a.length);
      for (const m of mounts) {
        try {
          execFileSync('umount', ['-l', m], { stdio: 'ignore' });
        } catch {
          // already gone
        }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
