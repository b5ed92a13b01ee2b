// A TCP proxy on loopback that can freeze: a database that "hangs". Frozen, it keeps every connection
// open and accepts new ones, but moves no byte in either direction (new connections are not even
// connected upstream) until it thaws, when everything it held flows on. That is what a stalled
// server, a full disk or a network partition without resets looks like to a client.
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  through(url: string): string;
  freeze(): void;
  thaw(): void;
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
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
