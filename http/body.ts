// Request bodies are capped at 1 MiB for every route (API.md: larger bodies get 413 before anything
// else). The bytes are counted as they stream in: Content-Length may be absent (chunked) or lie.
import type { IncomingMessage } from 'node:http';

export const MAX_BODY_BYTES = 1024 * 1024;
/** After a 413, a client still sending is drained up to this much more, then disconnected. */
const MAX_DRAIN_BYTES = 16 * MAX_BODY_BYTES;

export type BodyRead = { kind: 'ok'; body: Buffer } | { kind: 'too_large' } | { kind: 'aborted' };

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<BodyRead> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    drainAfterRefusal(req, 0);
    return Promise.resolve({ kind: 'too_large' });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      cleanup();
      drainAfterRefusal(req, size);
      resolve({ kind: 'too_large' });
    };
    const onEnd = () => {
      cleanup();
      resolve({ kind: 'ok', body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
    };
    const onAbort = () => {
      cleanup();
      resolve({ kind: 'aborted' });
    };
    const onClose = () => {
      if (!req.complete) onAbort();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onClose);
  });
}

/** Keeps reading (and discarding) so the client can finish sending and read the 413, but not for ever. */
function drainAfterRefusal(req: IncomingMessage, alreadyRead: number): void {
  let drained = alreadyRead;
  req.on('error', () => {});
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > MAX_DRAIN_BYTES) req.socket.destroy();
  });
}

/** `application/json`, with or without parameters; a missing content type is not JSON (API.md). */
export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const semi = header.indexOf(';');
  const type = (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
  return type === 'application/json';
}
