// A Docker API proxy on a unix socket, for end-to-end tests: it forwards every request to the real
// daemon, can hold one matching request until the test releases or drops it (to stop a server at an
// exact provisioning step), can be started late (a daemon that "appears" while a server runs), and can
// freeze (a hung daemon: connections are accepted, nothing is answered, open streams go silent).
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDockerHost } from '../../services/runtime/docker-connection.js';

export interface HeldRequest {
  method: string;
  url: string;
  /** Forwards it to the daemon. */
  release(): void;
  /** Closes the client's connection without forwarding. */
  drop(): void;
}

export interface DockerProxy {
  socketPath: string;
  dockerHost: string;
  /** Starts listening (call once; a proxy made with `listen: false` is a daemon that is not there yet). */
  listen(): Promise<void>;
  /** Resolves with the next request matching `match`; that request waits until released or dropped. */
  holdNext(match: (method: string, url: string) => boolean): Promise<HeldRequest>;
  /** Forwarded requests whose answer has not finished yet (a followed log stream stays in flight). */
  inFlight(match: (method: string, url: string) => boolean): number;
  /** From now on nothing is answered (requests wait, open responses stop) until thaw(). */
  freeze(): void;
  /** Forwards what waited and lets open responses flow again. */
  thaw(): void;
  close(): Promise<void>;
}

export function createDockerProxy(upstreamDockerHost: string | undefined): DockerProxy {
  const dir = mkdtempSync(join(tmpdir(), 'docker-proxy-'));
  const socketPath = join(dir, 'docker.sock');
  const upstream = parseDockerHost(upstreamDockerHost);
  const holds: Array<{ match: (m: string, u: string) => boolean; resolve: (h: HeldRequest) => void }> = [];
  const flying = new Set<{ method: string; url: string }>();
  let frozen = false;
  const waitingForThaw: Array<() => void> = [];
  const flowing = new Set<{ up: http.IncomingMessage; res: http.ServerResponse }>();

  const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (frozen) return void waitingForThaw.push(() => forward(req, res));
    const entry = { method: req.method ?? 'GET', url: req.url ?? '/' };
    flying.add(entry);
    res.on('close', () => flying.delete(entry));
    const target = 'socketPath' in upstream ? { socketPath: upstream.socketPath } : { host: upstream.host, port: upstream.port };
    const out = http.request({ ...target, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const stream = { up, res };
      flowing.add(stream);
      up.once('close', () => flowing.delete(stream));
      // Headers go on at once, as the daemon sent them: Node would hold them until the first body
      // byte, and a followed log with nothing to say yet would then look like a daemon that hangs.
      const answer = () => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        res.flushHeaders();
        up.pipe(res);
      };
      if (frozen) return void waitingForThaw.push(answer);
      answer();
    });
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  };

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const i = holds.findIndex((h) => h.match(method, url));
    if (i < 0) return forward(req, res);
    const [hold] = holds.splice(i, 1);
    hold!.resolve({ method, url, release: () => forward(req, res), drop: () => req.socket.destroy() });
  });

  return {
    socketPath,
    dockerHost: `unix://${socketPath}`,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => resolve());
      }),
    holdNext: (match) => new Promise((resolve) => holds.push({ match, resolve })),
    inFlight: (match) => [...flying].filter((r) => match(r.method, r.url)).length,
    freeze() {
      frozen = true;
      for (const { up, res } of flowing) up.unpipe(res);
    },
    thaw() {
      frozen = false;
      for (const { up, res } of flowing) if (res.headersSent) up.pipe(res);
      for (const go of waitingForThaw.splice(0)) go();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        if (!server.listening) {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        }
      }),
  };
}
