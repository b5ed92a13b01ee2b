// The load generator of bench/api.ts, in its own process so that autocannon's work does not share an
// event loop with the server being measured. Receives one job over IPC, answers with the figures.
import autocannon from 'autocannon';

export interface LoadJob {
  url: string;
  connections: number;
  warmupS: number;
  durationS: number;
  requests: Array<{ method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body: string }>;
  /** Heartbeats only: every request carries a new uptime_seconds, so each one changes what the agent reports. */
  varyUptime?: boolean;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
}

let uptime = 1_000;

function once(job: LoadJob, durationS: number): Promise<autocannon.Result> {
  const requests = job.varyUptime
    ? job.requests.map((r) => ({
        ...r,
        setupRequest: (req: autocannon.Request) => ({ ...req, body: r.body.replace(/"uptime_seconds":\d+/, `"uptime_seconds":${(uptime += 1)}`) }),
      }))
    : job.requests;
  return autocannon({ url: job.url, connections: job.connections, duration: durationS, requests });
}

process.on('message', (job: LoadJob) => {
  void (async () => {
    await once(job, job.warmupS);
    const r = await once(job, job.durationS);
    const result: LoadResult = {
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      total: r.requests.total,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
    };
    process.send!(result, () => process.exit(0));
  })().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
});
