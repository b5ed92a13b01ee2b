// GraphQL over HTTP (and SSE) with graphql-yoga. The context resolves the credential once per request;
// an invalid credential is answered with one indistinguishable 401 UNAUTHENTICATED (API.md).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { schema } from '../schema/index.js';
import type { GraphQLContext } from '../schema/context.js';
import type { Services } from '../services/index.js';
import { useSharedSubscriptionExecution } from './subscription-execution.js';
import { useCompiledExecution } from './graphql-jit.js';
import { createMaskError, hardeningPlugins } from './graphql-hardening.js';

export interface NodeServerContext {
  req: IncomingMessage;
  res: ServerResponse;
}

export type Yoga = YogaServerInstance<NodeServerContext, GraphQLContext>;

export function invalidCredentialError(): GraphQLError {
  return new GraphQLError('invalid credential', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

export function createGraphQLHandler(services: Services): Yoga {
  const log = services.deps.log;
  return createYoga<NodeServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    renderGraphiQL,
    graphiql: { title: 'Workspace server' },
    // Subscribers with the same document and visibility share one execution per event (SSE and WebSocket).
    plugins: [...hardeningPlugins(), useSharedSubscriptionExecution(), useCompiledExecution()],
    maskedErrors: { maskError: createMaskError(log) },
    // CORS is answered for every route by http/cors.ts, before yoga runs.
    cors: false,
    logging: {
      debug: (...a) => log.debug(a.map(String).join(' ')),
      info: (...a) => log.info(a.map(String).join(' ')),
      warn: (...a) => log.warn(a.map(String).join(' ')),
      error: (...a) => log.error(a.map(String).join(' ')),
    },
    context: async ({ request, req }) => {
      const auth = await services.auth.authenticate(request.headers.get('authorization'));
      if (!auth.ok) throw invalidCredentialError();
      return {
        viewer: auth.viewer,
        services,
        requestId: request.headers.get('x-request-id') ?? randomUUID(),
        clientIp: req?.socket?.remoteAddress ?? 'unknown',
      };
    },
  });
}
