// What the GraphQL endpoint refuses and hides (API.md): document limits (depth 15, 50 aliases, 5,000
// tokens), CSRF prevention, CORS from CORS_ORIGINS, and error masking that keeps coded errors and
// logs the cause of everything it hides.
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, type ExecutionResult, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { BadUserInputError } from '../services/errors.js';
import type { Logger } from '../services/log.js';
import { useCsrfRule } from './csrf.js';

export const DOCUMENT_LIMITS = { maxDepth: 15, maxAliases: 50, maxTokens: 5000 } as const;

// Armor throws "Syntax Error: …" from inside validation; reporting it instead makes it an ordinary
// GRAPHQL_VALIDATION_FAILED error among the document's other validation errors.
const asValidationError = {
  propagateOnRejection: false,
  onReject: [
    (ctx: ValidationContext | null, err: GraphQLError) =>
      ctx?.reportError(new GraphQLError(err.message.replace(/^Syntax Error: /, ''), { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })),
  ],
};

export function hardeningPlugins(): Plugin[] {
  const armor = new EnvelopArmor({
    maxDepth: { n: DOCUMENT_LIMITS.maxDepth, ...asValidationError },
    maxAliases: { n: DOCUMENT_LIMITS.maxAliases, ...asValidationError },
    maxDirectives: { ...asValidationError },
    // Counted while parsing, before there is anything to validate: refused as a parse error.
    maxTokens: { n: DOCUMENT_LIMITS.maxTokens },
    // Not part of the contract: its static estimate would refuse legitimate list-heavy queries that
    // the three limits above already bound.
    costLimit: { enabled: false },
  });
  return [
    ...(armor.protect().plugins as Plugin[]),
    // Browsers cannot send application/json cross-site without a CORS preflight; a GET carrying an
    // operation and any other body must carry a header that a plain cross-site form cannot set.
    useCsrfRule(),
    useRequestIdOnMaskedErrors(),
  ];
}

const MASKED_CODE = 'INTERNAL_SERVER_ERROR';

/** The result with every masked error carrying the request's id (extensions.requestId = x-request-id). */
function withRequestId(result: ExecutionResult, requestId: string): ExecutionResult {
  if (!result.errors?.some((e) => e.extensions?.code === MASKED_CODE)) return result;
  const errors = result.errors.map((e) =>
    e.extensions?.code === MASKED_CODE ? new GraphQLError(e.message, { path: e.path, extensions: { ...e.extensions, requestId } }) : e,
  );
  return { ...result, errors };
}

function isAsyncIterable(x: unknown): x is AsyncIterable<ExecutionResult> {
  return typeof x === 'object' && x !== null && Symbol.asyncIterator in x;
}

/**
 * A masked error tells the client nothing but that something failed; its extensions.requestId, the
 * answer's x-request-id, is what the client quotes and the server's log lines carry (http/server.ts
 * sets the header before yoga runs). Applies to single, batched and streamed (SSE) results.
 */
function useRequestIdOnMaskedErrors(): Plugin {
  return {
    onResultProcess({ request, result, setResult }) {
      const requestId = request.headers.get('x-request-id');
      if (!requestId) return;
      if (Array.isArray(result)) return setResult(result.map((r) => withRequestId(r as ExecutionResult, requestId)) as never);
      if (isAsyncIterable(result)) {
        const source = result;
        return setResult({
          async *[Symbol.asyncIterator]() {
            for await (const r of source) yield withRequestId(r, requestId);
          },
        } as never);
      }
      setResult(withRequestId(result as ExecutionResult, requestId) as never);
    },
  };
}

/**
 * Coded errors (auth, RATE_LIMITED, typed pagination errors) and GraphQL's own request, parse and
 * validation errors pass through. Malformed pagination arguments become BAD_USER_INPUT. Anything
 * else is a bug or an outage: the client sees "Unexpected error." and the log gets the cause.
 */
export function createMaskError(log: Logger, requestIdOf?: () => string) {
  return (error: unknown, message: string): Error => {
    if (error instanceof GraphQLError) {
      const original = error.originalError;
      if (original instanceof BadUserInputError) {
        return new GraphQLError(original.message, { nodes: error.nodes, path: error.path, extensions: { code: 'BAD_USER_INPUT' } });
      }
      if (!original || original instanceof GraphQLError) return error;
      // Raised while coercing variables (a scalar refusing a value): the client's input, not a bug.
      if (!error.path) return new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT' } });
    }
    const cause = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    const requestId = requestIdOf?.();
    const path = error instanceof GraphQLError ? error.path : undefined;
    log.error({ err: cause, path, ...(requestId ? { reqId: requestId } : {}) }, 'unexpected error in a GraphQL request');
    return new GraphQLError(message, { path, extensions: { code: MASKED_CODE, ...(requestId ? { requestId } : {}) } });
  };
}
