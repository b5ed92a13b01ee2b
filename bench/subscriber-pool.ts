// The parent side of bench/fanout-client.ts: child processes that each hold many WebSocket subscribers,
// driven over IPC (connect, count, report, close). Used by the fanout and api benchmarks.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BENCH_ADMIN_TOKEN } from './admin-gql.js';
import type { ClientCommand, ClientReply } from './fanout-client.js';

export class Clients {
  private replies = new Map<ChildProcess, Array<(r: ClientReply) => void>>();
  constructor(readonly children: ChildProcess[]) {
    for (const c of children) {
      this.replies.set(c, []);
      c.on('message', (r: ClientReply) => this.replies.get(c)!.shift()?.(r));
    }
  }

  static start(n: number): Clients {
    const script = fileURLToPath(new URL('./fanout-client.ts', import.meta.url));
    return new Clients(Array.from({ length: n }, () => fork(script, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' })));
  }

  /** Sends `cmd(i)` to every child and waits for one reply from each. */
  all(cmd: (i: number) => ClientCommand): Promise<ClientReply[]> {
    return Promise.all(
      this.children.map(
        (c, i) =>
          new Promise<ClientReply>((resolve) => {
            this.replies.get(c)!.push(resolve);
            c.send(cmd(i));
          }),
      ),
    );
  }

  /** n subscriptions (one socket each) spread over the children; socket j gets variablesList[j % length]. */
  connect(mode: 'graphql' | 'baseline', url: string, n: number, query: string, variablesList: Array<Record<string, unknown>>) {
    const k = this.children.length;
    return this.all((i) => ({
      cmd: 'connect',
      mode,
      url,
      token: BENCH_ADMIN_TOKEN,
      query,
      variablesList,
      count: Math.floor(n / k) + (i < n % k ? 1 : 0),
    })) as Promise<Array<Extract<ClientReply, { kind: 'connected' }>>>;
  }

  report() {
    return this.all(() => ({ cmd: 'report' })) as Promise<Array<Extract<ClientReply, { kind: 'report' }>>>;
  }

  close() {
    return this.all(() => ({ cmd: 'close' }));
  }

  kill(): void {
    for (const c of this.children) c.kill();
  }
}
