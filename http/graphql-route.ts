// POST/GET /graphql → yoga, with the same 1 MiB body cap as every route. The body is read here
// (counted as it streams) and handed to yoga already parsed, so it is parsed once and the operation
// name is known for the metrics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJsonContentType, readBody } from './body.js';
import type { Yoga } from './graphql.js';
import { sendError } from './respond.js';

/** The node request with the body slot that @whatwg-node/server reads instead of the stream. */
type RequestWithBody = IncomingMessage & { body?: unknown };

/** Serves one /graphql request. `onOperation` learns the operation name the client sent (for the
 * metrics and the log line) before the response can finish. */
export async function serveGraphQL(
  yoga: Yoga,
  req: IncomingMessage,
  res: ServerResponse,
  onOperation: (name: unknown) => void,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const read = await readBody(req);
    if (read.kind === 'aborted') return;
    if (read.kind === 'too_large') return sendError(res, 413, 'request body exceeds 1 MiB', { connection: 'close' });
    const body = bodyForYoga(req, read.body);
    (req as RequestWithBody).body = body;
    if (body && typeof body === 'object' && !Buffer.isBuffer(body) && !Array.isArray(body)) {
      onOperation((body as { operationName?: unknown }).operationName);
    }
  }
  await yoga(req, res, { req, res });
}

/** A parsed JSON object when that is what yoga would parse anyway; otherwise the raw bytes (yoga
 * then answers malformed JSON and other content types itself). */
function bodyForYoga(req: IncomingMessage, raw: Buffer): unknown {
  if (raw.length === 0 || !isJsonContentType(req.headers['content-type'])) return raw;
  try {
    const v: unknown = JSON.parse(raw.toString('utf8'));
    // @whatwg-node only takes a non-empty object as pre-parsed; anything else goes through as bytes.
    if (v !== null && typeof v === 'object' && Object.keys(v).length > 0) return v;
  } catch {
    // yoga answers "POST body sent invalid JSON." itself
  }
  return raw;
}
