// POST/GET /graphql → yoga, with the same 1 MiB body cap as every route. The body is read here
// (counted as it streams) and handed to yoga already parsed, so it is parsed once and the operation
// name is known for the metrics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJsonContentType, readBody } from './body.js';
import type { Yoga } from './graphql.js';
import { sendError } from './respond.js';

/** The node request with the body slot that @whatwg-node/server reads instead of the stream. */
type RequestWithBody = IncomingMessage & { body?: unknown };

/** Serves one /graphql request; resolves with the operation name the client sent, if any. */
export async function serveGraphQL(yoga: Yoga, req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  let operationName: unknown;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const read = await readBody(req);
    if (read.kind === 'aborted') return undefined;
    if (read.kind === 'too_large') {
      sendError(res, 413, 'request body exceeds 1 MiB', { connection: 'close' });
      return undefined;
    }
    (req as RequestWithBody).body = bodyForYoga(req, read.body);
    const parsed = (req as RequestWithBody).body;
    if (parsed && typeof parsed === 'object' && !Buffer.isBuffer(parsed) && !Array.isArray(parsed)) {
      operationName = (parsed as { operationName?: unknown }).operationName;
    }
  }
  await yoga(req, res, { req, res });
  return operationName;
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
