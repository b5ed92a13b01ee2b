// The agent endpoints (API.md "Agent endpoints"). Checks answer in the contract's order: 413 (body
// over 1 MiB), 415 (not application/json), 400 (malformed or out of bounds), then the service's
// 404 → 401 → 409.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { Services } from '../../services/index.js';
import { HeartbeatBody, parseBody, RegisterBody, UpdateCardBody } from '../../services/registry/bodies.js';
import type { AgentOutcome } from '../../services/registry/service.js';
import { isJsonContentType, readBody } from '../body.js';
import { sendError, sendJson } from '../respond.js';

export interface RestRoute {
  /** Metrics label: the route's pattern, never the raw path. */
  label: string;
  method: 'GET' | 'POST';
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export const INVALID_TOKEN = 'invalid workspace token';

export function sendOutcome(res: ServerResponse, outcome: AgentOutcome): void {
  switch (outcome.kind) {
    case 'ok':
      return sendJson(res, 200, outcome.body);
    case 'not_found':
      return sendJson(res, 404, { workspace_id: outcome.workspaceId, deleted: true });
    case 'unauthorized':
      return sendError(res, 401, INVALID_TOKEN);
    case 'conflict':
      return sendError(res, 409, outcome.message);
    case 'busy':
      return sendError(res, 503, 'workspace is changing; retry', { 'retry-after': '1' });
  }
}

/** Reads and checks the body (413, 415, 400), or answers and returns undefined. */
async function readJsonBody(req: IncomingMessage, res: ServerResponse): Promise<{ json: unknown } | undefined> {
  const read = await readBody(req);
  if (read.kind === 'aborted') return undefined;
  if (read.kind === 'too_large') {
    sendError(res, 413, 'request body exceeds 1 MiB', { connection: 'close' });
    return undefined;
  }
  if (!isJsonContentType(req.headers['content-type'])) {
    sendError(res, 415, 'content type must be application/json');
    return undefined;
  }
  try {
    return { json: JSON.parse(read.body.toString('utf8')) };
  } catch {
    // Includes RangeError from absurdly deep nesting: still the client's malformed body.
    sendError(res, 400, 'request body is not valid JSON');
    return undefined;
  }
}

function postRoute<S extends z.ZodType>(
  label: string,
  schema: S,
  call: (input: z.output<S>, authorization: string | undefined) => Promise<AgentOutcome>,
): RestRoute {
  return {
    label,
    method: 'POST',
    async handle(req, res) {
      const body = await readJsonBody(req, res);
      if (!body) return;
      const parsed = parseBody(schema, body.json);
      if (!parsed.ok) return sendError(res, 400, parsed.message);
      sendOutcome(res, await call(parsed.value, req.headers.authorization));
    },
  };
}

export function createAgentRoutes(services: Services) {
  const { registry, auth } = services;
  const register = postRoute('/registry/register', RegisterBody, (b, a) => registry.register(b, a));
  const heartbeat = postRoute('/registry/heartbeat', HeartbeatBody, (b, a) => registry.heartbeat(b, a));
  const updateCard = postRoute('/registry/update-card', UpdateCardBody, (b, a) => registry.updateCard(b, a));

  const state = (workspaceId: string): RestRoute => ({
    label: '/workspaces/:id/state',
    method: 'GET',
    async handle(req, res) {
      const read = await readBody(req);
      if (read.kind === 'aborted') return;
      if (read.kind === 'too_large') return sendError(res, 413, 'request body exceeds 1 MiB', { connection: 'close' });
      const viewer = async () => {
        const r = await auth.authenticate(req.headers.authorization);
        return r.ok ? r.viewer : null;
      };
      sendOutcome(res, await registry.state(workspaceId, req.headers.authorization, viewer));
    },
  });

  /** The route for this path, or null when no agent route has it. */
  return function match(path: string): RestRoute | null {
    switch (path) {
      case '/registry/register':
        return register;
      case '/registry/heartbeat':
        return heartbeat;
      case '/registry/update-card':
        return updateCard;
    }
    const m = /^\/workspaces\/([^/]+)\/state$/.exec(path);
    return m ? state(decodeSegment(m[1]!)) : null;
  };
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
