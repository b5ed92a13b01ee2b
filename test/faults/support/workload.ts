// The workload every fault runs against: container workspaces on the reference agent, and a storm of
// restarts. Talks GraphQL over real HTTP, as a client would (retrying an outage answer, never a
// masked error), and says exactly how many restarts were accepted.
import net from 'node:net';

export type Gql = (query: string, variables?: Record<string, unknown>) => Promise<{ status: number; data: any; errors?: any[] }>;

/** Settings every fault test shares: short loops, an agent heartbeat every second, no rate limit. */
export const FAULT_ENV: Record<string, string> = {
  CONTAINER_RUNTIME: 'docker',
  DOCKER_NETWORK: 'host',
  HEARTBEAT_INTERVAL_S: '1',
  HEALTH_SWEEP_INTERVAL_S: '2',
  ORPHAN_SWEEP_INTERVAL_S: '2',
  RATE_LIMIT_PER_MIN: '1000000',
};

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** An answer that only says "the database is out of reach": a client retries it. */
export function isOutageAnswer(r: { status: number; data: any; errors?: any[] }): boolean {
  return r.status === 503 && r.data === undefined && r.errors?.length === 1 && r.errors[0].extensions?.code === 'SERVICE_UNAVAILABLE';
}

/** Runs `op`, retrying outage answers (only those) for up to `timeoutMs`. */
export async function retryingOutages<T extends { status: number; data: any; errors?: any[] }>(op: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await op();
    if (!isOutageAnswer(r) || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 200));
  }
}

const CREATE = `mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) {
  __typename ... on CreateWorkspaceSuccess { workspace { id status } } ... on Error { message } } }`;

export async function createWorkspaces(gql: Gql, n: number, name: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await retryingOutages(() => gql(CREATE, { input: { name: `${name} ${i}` } }));
    if (r.data?.createWorkspace?.__typename !== 'CreateWorkspaceSuccess') throw new Error(`create failed: ${JSON.stringify(r)}`);
    ids.push(r.data.createWorkspace.workspace.id);
  }
  return ids;
}

/**
 * `perWorkspace` restarts of every workspace, all workspaces at once. `together`: one request per
 * workspace holding the restarts as aliases (they commit back to back, before any new agent can
 * register); otherwise one request per restart, each retried while the answer is an outage (a refused
 * restart commits nothing: its transaction is the request's only database work). Returns the number of
 * accepted restarts per workspace.
 */
export async function restartStorm(gql: Gql, ids: readonly string[], perWorkspace: number, together = true): Promise<Map<string, number>> {
  const accepted = new Map<string, number>();
  const one = `restartWorkspace(id: $id) { __typename ... on Error { message } }`;
  await Promise.all(
    ids.map(async (id) => {
      let n = 0;
      if (together) {
        const doc = `mutation($id: ID!) { ${Array.from({ length: perWorkspace }, (_, i) => `r${i}: ${one}`).join(' ')} }`;
        const r = await gql(doc, { id });
        for (let i = 0; i < perWorkspace; i++) if (r.data?.[`r${i}`]?.__typename === 'RestartWorkspaceSuccess') n++;
      } else {
        for (let i = 0; i < perWorkspace; i++) {
          const r = await retryingOutages(() => gql(`mutation($id: ID!) { r0: ${one} }`, { id }));
          if (r.data?.r0?.__typename === 'RestartWorkspaceSuccess') n++;
          else throw new Error(`restart refused: ${JSON.stringify(r)}`);
        }
      }
      accepted.set(id, n);
    }),
  );
  return accepted;
}
