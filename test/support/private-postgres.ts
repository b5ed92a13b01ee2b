// A PostgreSQL cluster of the test's own (initdb into a temp dir, own port and socket directory), so
// a test can restart or stop "the database" without touching the shared server. Run as the postgres
// system user when we are root (initdb refuses root). Never synchronously once started: an in-process
// server under test must keep running while its database goes down and comes back.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  port: number;
  /** A superuser URL for database `name` (default postgres). */
  url(name?: string): string;
  /** pg_ctl restart -m fast: every session is terminated (57P01), then the server accepts again. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const root = mkdtempSync(join(tmpdir(), 'faults-pg-'));
  const data = join(root, 'data');
  const asRoot = process.getuid?.() === 0;
  const pgUser = asRoot ? 'postgres' : (process.env.USER ?? 'postgres');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(root, uid, gid);
  }
  const command = (bin: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', join(BIN, bin), ...args]] : [join(BIN, bin), args];
  const run = async (bin: string, args: string[]) => {
    const [file, argv] = command(bin, args);
    await promisify(execFile)(file, argv, { timeout: 60_000 });
  };
  await run('initdb', ['-D', data, '-A', 'trust', '-U', pgUser, '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const opts = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60 -c shared_buffers=16MB`;
  const ctl = (...args: string[]) => run('pg_ctl', ['-D', data, '-l', join(root, 'log'), '-w', '-t', '60', '-o', opts, ...args]);
  await ctl('start');

  return {
    port,
    url: (name = 'postgres') => `postgresql://${pgUser}@127.0.0.1:${port}/${name}`,
    restart: () => ctl('restart', '-m', 'fast'),
    stop: () => ctl('stop', '-m', 'fast'),
    start: () => ctl('start'),
    async dispose() {
      if (existsSync(join(data, 'postmaster.pid'))) await ctl('stop', '-m', 'immediate').catch(() => {});
      rmSync(root, { recursive: true, force: true });
    },
  };
}
