// The Workspace object over WorkspaceRecord. Relations load through per-request DataLoaders that call
// services. `container` and `logs` are added by schema/container.ts.
import type { WorkspaceRecord } from '../services/workspaces/record.js';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { eventEdges, WorkspaceEventConnection } from './event.js';
import { groupLoader, loader } from './loaders.js';
import { NodeRef } from './node.js';
import { pageSize, toConnection } from './pagination.js';
import { WorkspaceTokenRef } from './token.js';
import { WorkspaceStatus } from './workspace-status.js';
import { parseEventId } from '../services/events/cursor.js';

export { WorkspaceStatus };

export const WorkspaceRef = builder.objectRef<WorkspaceRecord>('Workspace');

// The relation loaders, by workspace id. Query.workspaces primes them from its one-statement read.
export const workspaceByIdLoader = (ctx: GraphQLContext) =>
  loader(ctx, 'workspaceById', (ids: readonly string[]) => ctx.services.workspaces.getByIds(ids));
export const childrenLoader = (ctx: GraphQLContext) =>
  groupLoader(ctx, 'childrenByParent', (ids) => ctx.services.workspaces.childrenOf(ids), (c) => c.parentId!);
export const liveTokensLoader = (ctx: GraphQLContext) =>
  groupLoader(ctx, 'liveTokens', (ids) => ctx.services.tokens.listLive(ids), (tk) => tk.workspaceId);
export const secretKeysLoader = (ctx: GraphQLContext) =>
  groupLoader(ctx, 'secretKeys', (ids) => ctx.services.secrets.listKeys(ids), (s) => s.workspaceId);

WorkspaceRef.implement({
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    role: t.exposeString('role', { nullable: true }),
    tier: t.exposeInt('tier', { description: '1..4, resource class' }),
    runtime: t.exposeString('runtime', { description: '"langgraph", "claude-code", ... or "external" (no container)' }),
    image: t.exposeString('image', { nullable: true, description: 'container image; null for external' }),
    status: t.field({ type: WorkspaceStatus, resolve: (w) => w.status }),
    url: t.exposeString('url', { nullable: true, description: 'agent endpoint reported on register' }),
    parent: t.field({
      type: WorkspaceRef,
      nullable: true,
      // A workspace token sees only its own workspace: no parent, no children.
      resolve: (w, _args, ctx) => {
        if (!w.parentId || ctx.viewer.kind === 'WORKSPACE') return null;
        return workspaceByIdLoader(ctx).load(w.parentId);
      },
    }),
    children: t.field({
      type: [WorkspaceRef],
      description: 'direct children that are not REMOVED',
      resolve: (w, _args, ctx) => {
        if (ctx.viewer.kind === 'WORKSPACE') return [];
        return childrenLoader(ctx).load(w.id);
      },
    }),
    agentCard: t.field({ type: 'JSON', nullable: true, resolve: (w) => w.agentCard ?? null }),
    activeTasks: t.exposeInt('activeTasks'),
    maxConcurrentTasks: t.exposeInt('maxConcurrentTasks'),
    currentTask: t.exposeString('currentTask', { nullable: true }),
    lastErrorRate: t.exposeFloat('lastErrorRate'),
    lastSampleError: t.exposeString('lastSampleError', { nullable: true }),
    uptimeSeconds: t.exposeInt('uptimeSeconds'),
    lastHeartbeatAt: t.expose('lastHeartbeatAt', { type: 'DateTime', nullable: true }),
    hibernationIdleMinutes: t.exposeInt('hibernationIdleMinutes', {
      nullable: true,
      description: 'null = never hibernate automatically',
    }),
    tokens: t.field({
      type: [WorkspaceTokenRef],
      description: 'live (unrevoked) tokens, newest first',
      resolve: (w, _args, ctx) => liveTokensLoader(ctx).load(w.id),
    }),
    secretKeys: t.stringList({
      description: 'names only, never values',
      resolve: async (w, _args, ctx) => {
        const rows = await secretKeysLoader(ctx).load(w.id);
        return rows.map((r) => r.key);
      },
    }),
    events: t.field({
      type: WorkspaceEventConnection,
      description: 'newest first; `after` = older than that event id',
      args: { first: t.arg.int(), after: t.arg.string() },
      authScopes: (w) => ({ workspaceReader: w.id }),
      resolve: async (w, args, ctx) => {
        const first = pageSize(args.first);
        const after = args.after === null || args.after === undefined ? null : parseEventId(args.after);
        // Aliases with other arguments get their own loader; same arguments batch into one query.
        const page = await loader(ctx, `events:${first}:${after ?? ''}`, (ids: readonly string[]) =>
          ctx.services.events.pagesFor(ids, first, after),
        ).load(w.id);
        return toConnection(eventEdges(page.events), page.hasNextPage);
      },
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});
