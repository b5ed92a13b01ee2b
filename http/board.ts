// The fleet board's files: GET / is its page and /assets/<name> its script, stylesheet and icon, read
// from web/dist (built by web/build.mjs at install). Served from the API's own origin, the board needs
// no CORS and gets nothing a browser client elsewhere would not: it speaks only the public API.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../web/dist/', import.meta.url));
/** Names the build writes (letters, digits, `-`, `_`, dots): nothing that could leave the folder. */
const ASSET = /^\/assets\/([A-Za-z0-9_-]+(?:\.[A-Za-z0-9]+)+)$/;
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};
// Everything from this origin only; 'self' also covers the same-origin WebSocket.
const CSP = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";
/** Hashed names never change content: read once. */
const assetCache = new Map<string, { body: Buffer; gz: Buffer | null }>();

interface BoardRoute {
  label: string;
  probe: false;
  graphql: false;
  methods: readonly string[];
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** The route for a board path, or null when the path is not the board's. */
export function boardRoute(path: string): BoardRoute | null {
  const asset = ASSET.exec(path)?.[1];
  if (path !== '/' && !asset) return null;
  return {
    label: asset ? '/assets' : '/',
    probe: false,
    graphql: false,
    methods: ['GET', 'HEAD'],
    handle: (req, res) => (asset ? serveAsset(req, res, asset) : servePage(req, res)),
  };
}

async function servePage(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const file = await load(join(DIST, 'index.html'));
  if (!file) {
    const text = 'The fleet board is not built: run `npm run web:build` (npm install does it).\n';
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    return void res.end(req.method === 'HEAD' ? undefined : text);
  }
  send(req, res, file, 'text/html; charset=utf-8', 'no-cache');
}

async function serveAsset(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
  let file = assetCache.get(name) ?? null;
  if (!file) {
    file = await load(join(DIST, 'assets', name));
    if (file) assetCache.set(name, file);
  }
  if (!file) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    return void res.end(req.method === 'HEAD' ? undefined : 'not found\n');
  }
  send(req, res, file, TYPES[extname(name)] ?? 'application/octet-stream', 'public, max-age=31536000, immutable');
}

async function load(path: string): Promise<{ body: Buffer; gz: Buffer | null } | null> {
  const body = await readFile(path).catch(() => null);
  if (!body) return null;
  return { body, gz: await readFile(`${path}.gz`).catch(() => null) };
}

function send(req: IncomingMessage, res: ServerResponse, file: { body: Buffer; gz: Buffer | null }, type: string, cacheControl: string): void {
  const gzip = !!file.gz && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? file.gz! : file.body;
  res.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    'cache-control': cacheControl,
    vary: 'accept-encoding',
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
