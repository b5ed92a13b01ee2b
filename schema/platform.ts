// Platform: the deployment and instance that answered (API.md "Container contract" and "Outages").
import type { PlatformInfo } from '../services/platform/service.js';
import { builder } from './builder.js';

export const PlatformRef = builder.objectRef<PlatformInfo>('Platform').implement({
  description: 'This deployment and the instance that answered.',
  fields: (t) => ({
    deploymentId: t.exposeID('deploymentId', {
      description: 'generated once per database and shared by every instance; every container and volume carries it as molecule.platform.deployment',
    }),
    instanceId: t.exposeString('instanceId', { description: 'the instance that answered (INSTANCE_ID, random per start by default)' }),
    version: t.exposeString('version', { description: "the server's package version" }),
    containerRuntime: t.exposeString('containerRuntime', { description: 'the CONTAINER_RUNTIME value' }),
    runtimeReachable: t.exposeBoolean('runtimeReachable', {
      description: 'false from the first runtime call that failed to connect or timed out until a background probe succeeds; always false with CONTAINER_RUNTIME=none',
    }),
  }),
});
