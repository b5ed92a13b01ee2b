// A TCP proxy on loopback in front of a database, to take it away from one server under test without
// touching the shared PostgreSQL, in the two ways a database goes away:
// - freeze(): a database that "hangs". It keeps every connection open and accepts new ones, but moves
//   no byte in either direction (new connections are not even connected upstream) until thaw(), when
//   everything it held flows on: a stalled server, a full disk, a partition without resets.
// - cut(): a database that is down. Every connection is dropped and new ones are refused until
//   restore() listens again on the same port.
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  through(url: string): string;
  freeze(): void;
  thaw(): void;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let frozen = false;
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket | null; connect(): void }>();

  // Not pipe(): a pipe resumes its source on the destination's drain, which would undo a freeze.
  const forward = (from: net.Socket, to: net.Socket) =>
    from.on('data', (chunk) => {
      if (to.write(chunk)) return;
      from.pause();
      to.once('drain', () => {
        if (!frozen) from.resume();
      });
    });

  const server = net.createServer((client) => {
    const pair = {
      client,
      upstream: null as net.Socket | null,
      connect() {
        if (pair.upstream) return;
        const upstream = net.connect(targetPort, targetHost);
        pair.upstream = upstream;
        forward(client, upstream);
        forward(upstream, client);
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => client.destroy());
        client.resume();
        upstream.resume();
      },
    };
    pairs.add(pair);
    client.on('error', () => pair.upstream?.destroy());
    client.on('close', () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    client.pause();
    if (!frozen) pair.connect();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const dropAll = () => {
    for (const p of pairs) {
      p.client.destroy();
      p.upstream?.destroy();
    }
  };

  return {
    port,
    through(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    freeze() {
      frozen = true;
      for (const p of pairs) {
        p.client.pause();
        p.upstream?.pause();
      }
    },
    thaw() {
      frozen = false;
      for (const p of pairs) {
        if (!p.upstream) p.connect();
        p.client.resume();
        p.upstream?.resume();
      }
    },
    cut() {
      server.close();
      dropAll();
    },
    restore() {
      if (!server.listening) server.listen(port, '127.0.0.1');
    },
    async close() {
      dropAll();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
