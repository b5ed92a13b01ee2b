// How an outage is answered (API.md "Outages"): while the database cannot be reached, a GraphQL request
// that needs it gets HTTP 503 with Retry-After, no `data`, and exactly one error whose
// extensions.code is SERVICE_UNAVAILABLE, never the masked "Unexpected error." (over SSE the same;
// graphql-ws in websocket.ts). A client can then tell an outage, worth retrying, from a bug.
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { isDatabaseUnavailable } from '../services/db/unavailable.js';

export const SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE';
/** Seconds a client should wait before retrying. */
export const RETRY_AFTER_S = 1;

/** The one error of an outage answer. `http` is read by yoga (status and headers) and not sent. */
export function serviceUnavailableError(withHttp = true): GraphQLError {
  return new GraphQLError('the database cannot be reached; retry later', {
    extensions: {
      code: SERVICE_UNAVAILABLE,
      ...(withHttp ? { http: { status: 503, headers: { 'Retry-After': String(RETRY_AFTER_S) } } } : {}),
    },
  });
}

/** An error (raised anywhere in a request) that means the database could not be reached. */
export function isOutageError(err: unknown): boolean {
  if (err instanceof GraphQLError) {
    if (err.extensions?.code === SERVICE_UNAVAILABLE) return true;
    return isDatabaseUnavailable(err.originalError);
  }
  return isDatabaseUnavailable(err);
}

/** A single result (not a stream) that carries an outage error anywhere. */
export function isOutageResult(result: unknown): result is ExecutionResult {
  const errors = (result as ExecutionResult | null)?.errors;
  return Array.isArray(errors) && errors.some(isOutageError);
}

/** Replaces a result that ran into the outage (partial data, several errors) by the one outage answer. */
export function useOutageAnswers(): Plugin {
  const collapse = ({ result, setResult }: { result: unknown; setResult: (r: ExecutionResult) => void }) => {
    if (isOutageResult(result)) setResult({ errors: [serviceUnavailableError()] });
  };
  return {
    onExecute: () => ({ onExecuteDone: collapse as never }),
    onSubscribe: () => ({ onSubscribeResult: collapse as never }),
  };
}
