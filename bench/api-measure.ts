// How bench/api measures one side of a comparison: a load from autocannon in a child process
// (api-load.ts), the CPU that this process and PostgreSQL spent on it, and the ABBA comparison of two
// sides that prints their ratio.
import { fork } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadResult } from './api-load.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Runs one load and measures this process's CPU time meanwhile (both servers live in this process;
 * the load generator does not), so the report can show CPU per request beside throughput. */
export async function load(job: LoadJob): Promise<LoadResult & { cpuUsPerRequest: number; pgCpuUsPerRequest: number | null }> {
  const before = process.cpuUsage();
  const pgBefore = await postgresCpuUs();
  const r = await loadInChild(job);
  const used = process.cpuUsage(before);
  const pgAfter = await postgresCpuUs();
  // the warm-up is included in the CPU time but not in the count: scale by the measured share
  const share = job.durationS / (job.durationS + job.warmupS);
  const perRequest = (us: number) => (us * share) / Math.max(r.total, 1);
  return {
    ...r,
    cpuUsPerRequest: perRequest(used.user + used.system),
    pgCpuUsPerRequest: pgBefore === null || pgAfter === null ? null : perRequest(postgresCpuBetween(pgBefore, pgAfter)),
  };
}

/** CPU time of each local `postgres` process so far, by pid (Linux /proc), or null where it cannot be
 * read: the database's share of a request's cost, which the two sides split very differently. */
async function postgresCpuUs(): Promise<Map<string, number> | null> {
  try {
    const byPid = new Map<string, number>();
    for (const pid of await readdir('/proc')) {
      if (!/^[0-9]+$/.test(pid)) continue;
      const us = await processCpuUs(pid, 'postgres');
      if (us !== null) byPid.set(pid, us);
    }
    return byPid;
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used so far, from /proc; null when it is gone or named otherwise. */
export async function processCpuUs(pid: string | number, name?: string): Promise<number | null> {
  const tick = 1e6 / 100; // USER_HZ is 100 on Linux
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const m = /^\d+ \((.*)\) (.*)$/s.exec(stat);
  if (!m || (name !== undefined && m[1] !== name)) return null;
  const f = m[2]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * tick; // utime, stime (fields 14 and 15)
}

/** CPU the postgres processes used between two readings: processes that exited meanwhile (idle pool
 * connections timing out) are left out, new ones count in full. */
function postgresCpuBetween(before: Map<string, number>, after: Map<string, number>): number {
  let used = 0;
  for (const [pid, us] of after) used += us - (before.get(pid) ?? 0);
  return used;
}

function loadInChild(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(here, 'api-load.ts'), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    child.once('message', (m) => resolve(m as LoadResult));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
    child.send(job);
  });
}

export type Measured = LoadResult & { cpuUsPerRequest: number; pgCpuUsPerRequest: number | null };

const fmt = (r: Measured) =>
  `${r.rps.toFixed(0).padStart(8)} req/s   p50 ${String(r.p50).padStart(4)} ms   p99 ${String(r.p99).padStart(4)} ms   ` +
  `~${(r.cpuUsPerRequest / 1000).toFixed(2)} ms CPU/req` +
  (r.pgCpuUsPerRequest === null ? '' : ` + ${(r.pgCpuUsPerRequest / 1000).toFixed(2)} ms PostgreSQL`) +
  `   (${r.total} requests, ${r.non2xx} non-2xx, ${r.errors} errors)`;

/** Mean of the rounds (throughput, CPU) and the worse p50/p99: one line per side. */
function combine(rs: Measured[]): Measured {
  const mean = (f: (r: Measured) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
  return {
    rps: mean((r) => r.rps),
    p50: Math.max(...rs.map((r) => r.p50)),
    p99: Math.max(...rs.map((r) => r.p99)),
    total: rs.reduce((a, r) => a + r.total, 0),
    non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
    errors: rs.reduce((a, r) => a + r.errors, 0),
    cpuUsPerRequest: mean((r) => r.cpuUsPerRequest),
    pgCpuUsPerRequest: rs.some((r) => r.pgCpuUsPerRequest === null) ? null : mean((r) => r.pgCpuUsPerRequest!),
  };
}

/**
 * Runs both sides in ABBA order (server, baseline, baseline, server, …) so that drift in the machine's
 * load during the run weighs on both sides alike, and reports the mean of the rounds.
 */
export async function compare(
  o: { rounds: number },
  title: string,
  target: number,
  server: () => Promise<Measured>,
  baseline: () => Promise<Measured>,
  labels: [string, string] = ['server', 'baseline'],
): Promise<void> {
  // JIT tiering and fresh pool connections make the first seconds of a freshly started server cost
  // 2-3× the CPU of the steady state: a longer unmeasured warm-up of each side comes first.
  await server();
  await baseline();
  const ours: Measured[] = [];
  const base: Measured[] = [];
  for (let round = 0; round < o.rounds; round++) {
    if (round % 2 === 0) {
      ours.push(await server());
      base.push(await baseline());
    } else {
      base.push(await baseline());
      ours.push(await server());
    }
  }
  const a = combine(ours);
  const b = combine(base);
  const ratio = a.rps / b.rps;
  const [la, lb] = labels.map((l) => l.padEnd(Math.max(labels[0].length, labels[1].length)));
  console.log(`\n${title}`);
  if (o.rounds > 1) {
    ours.forEach((r, i) => console.log(`  ${la} #${i + 1} ${fmt(r)}`));
    base.forEach((r, i) => console.log(`  ${lb} #${i + 1} ${fmt(r)}`));
  }
  console.log(`  ${la}    ${fmt(a)}`);
  console.log(`  ${lb}    ${fmt(b)}`);
  console.log(
    `  ratio      ${ratio.toFixed(2)} of ${labels[1]} throughput, p99 ${(a.p99 / Math.max(b.p99, 1)).toFixed(2)}× ${labels[1]}   (target ≥ ${target}: ${ratio >= target ? 'met' : 'NOT met'})`,
  );
}
