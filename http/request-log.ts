// Request ids and the one log line per request. An incoming x-request-id is kept when it looks like
// an id (so a caller can correlate), otherwise one is generated; it is echoed on the response and
// handed to GraphQL's context through the request headers.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../services/log.js';

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID();
  req.headers['x-request-id'] = id;
  return id;
}

export interface RequestLogEntry {
  reqId: string;
  method: string;
  path: string;
  route: string;
  status: number;
  ms: number;
  /** Probes (/health, /ready, /metrics) log at debug: they arrive every few seconds. */
  probe: boolean;
  /** The GraphQL operation name the client sent (truncated: it is client input). */
  operation?: string;
}

export function logRequest(log: Logger, e: RequestLogEntry): void {
  const { probe, ...fields } = e;
  if (probe) log.debug(fields, 'request');
  else if (e.status >= 500) log.warn(fields, 'request');
  else log.info(fields, 'request');
}
