// The one Pothos builder. No types are defined here: schema/<entity>.ts defines types, and
// resolvers/<entity>.ts adds Query/Mutation/Subscription fields that call one service each.
import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import { GraphQLError } from 'graphql';
import { canOperate, canReadWorkspace } from '../services/auth/viewer.js';
import type { GraphQLContext } from './context.js';

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: {
    /** the admin token */
    admin: boolean;
    /** the admin token or an org token (read-only ones included) */
    staff: boolean;
    /** the admin token or a writable org token: mutations, logs, subsystems */
    operator: boolean;
    /** any valid credential */
    authenticated: boolean;
    /** staff, or the workspace token of this workspace id */
    workspaceReader: string;
  };
  Scalars: {
    ID: { Input: string; Output: string | bigint };
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  defaultFieldNullability: false,
  plugins: [ScopeAuthPlugin, ErrorsPlugin, ValidationPlugin, RelayPlugin, DataloaderPlugin],
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      admin: ctx.viewer.kind === 'ADMIN',
      staff: ctx.viewer.kind === 'ADMIN' || ctx.viewer.kind === 'ORG_TOKEN',
      operator: canOperate(ctx.viewer),
      authenticated: ctx.viewer.kind !== 'ANONYMOUS',
      workspaceReader: (id: string) => canReadWorkspace(ctx.viewer, id),
    }),
    // No credential at all is UNAUTHENTICATED; a valid credential doing what it may not is FORBIDDEN.
    unauthorizedError: (_parent, ctx) =>
      ctx.viewer.kind === 'ANONYMOUS'
        ? new GraphQLError('authentication required', { extensions: { code: 'UNAUTHENTICATED' } })
        : new GraphQLError('not allowed for this credential', { extensions: { code: 'FORBIDDEN' } }),
  },
  errors: { defaultTypes: [] },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
  },
});

builder.queryType({});
// Mutation and Subscription root types are declared in schema/root-types.ts once they have fields
// (GraphQL refuses an empty root type).
