// Workspace.container and Workspace.logs: the live view from the container runtime. Containers of all
// the workspaces in a response are fetched by one batched call (a list of 50 workspaces is one
// runtime.list, not 50 inspects); external workspaces never ask the runtime.
import type { ContainerView } from '../services/lifecycle/service.js';
import { EXTERNAL_RUNTIME } from '../services/workspaces/record.js';
import { builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { loader } from './loaders.js';
import { WorkspaceRef } from './workspace.js';

export const ContainerRef = builder.objectRef<ContainerView>('Container').implement({
  fields: (t) => ({
    id: t.exposeString('id'),
    name: t.exposeString('name', { description: 'without a leading slash' }),
    image: t.exposeString('image'),
    running: t.exposeBoolean('running'),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
  }),
});

function containerLoader(ctx: GraphQLContext) {
  return loader(ctx, 'containerByWorkspace', (ids: readonly string[]) => ctx.services.lifecycle.containers(ids));
}

builder.objectField(WorkspaceRef, 'container', (t) =>
  t.field({
    type: ContainerRef,
    nullable: true,
    description: 'live view from the container runtime; null if none',
    resolve: (w, _args, ctx) => (w.runtime === EXTERNAL_RUNTIME ? null : containerLoader(ctx).load(w.id)),
  }),
);

builder.objectField(WorkspaceRef, 'logs', (t) =>
  t.string({
    nullable: true,
    description: "the container's recent output (admin and org tokens only); null if none",
    args: { tail: t.arg.int({ defaultValue: 200 }) },
    authScopes: { operator: true },
    resolve: async (w, { tail }, ctx) => {
      if (w.runtime === EXTERNAL_RUNTIME) return null;
      const container = await containerLoader(ctx).load(w.id);
      return container ? ctx.services.lifecycle.containerLogs(container.id, tail ?? 200) : null;
    },
  }),
);
