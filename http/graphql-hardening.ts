// What the GraphQL endpoint refuses and hides (API.md): document limits (depth 15, 50 aliases, 5,000
// tokens), CSRF prevention, CORS from CORS_ORIGINS, and error masking that keeps coded errors and
// logs the cause of everything it hides.
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import { BadUserInputError } from '../services/errors.js';
import type { Logger } from '../services/log.js';
import { isOutageError, serviceUnavailableError } from './outage.js';

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
    // Browsers cannot send application/json cross-site without a CORS preflight; every other request
    // (GET, form and text bodies) must carry this header, which a plain cross-site form cannot set.
    useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf'] }),
  ];
}

/** Empty CORS_ORIGINS: no CORS headers at all, so browsers keep to the same origin. */
export function corsOptions(config: Pick<Config, 'corsOrigins'>) {
  if (config.corsOrigins.length === 0) return false as const;
  return {
    origin: config.corsOrigins,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['authorization', 'content-type', 'accept', 'x-graphql-yoga-csrf', 'x-request-id'],
    credentials: false,
  };
}

/**
 * Coded errors (auth, RATE_LIMITED, typed pagination errors) and GraphQL's own request, parse and
 * validation errors pass through; database unavailability becomes SERVICE_UNAVAILABLE (outage.ts). Malformed pagination arguments become BAD_USER_INPUT. Anything
 * else is a bug or an outage: the client sees "Unexpected error." and the log gets the cause.
 */
export function createMaskError(log: Logger) {
  return (error: unknown, message: string): Error => {
    if (isOutageError(error)) {
      if (error instanceof GraphQLError && !error.originalError) return error; // already the outage answer
      log.warn({ err: error instanceof GraphQLError ? error.originalError : error }, 'database unavailable during a GraphQL request');
      return serviceUnavailableError();
    }
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
    log.error({ err: cause, path: error instanceof GraphQLError ? error.path : undefined }, 'unexpected error in a GraphQL request');
    return new GraphQLError(message, {
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  };
}
