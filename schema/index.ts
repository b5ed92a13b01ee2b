// Imports every type and resolver module (order: types before the resolvers that use them), then
// builds the schema. scripts/print-schema.ts prints it to schema.graphql.
import { builder } from './builder.js';
import './scalars.js';
import './root-types.js';
import './viewer.js';
import '../resolvers/viewer.js';
// -- entity modules (keep one import per line; helpers append here) --
import './workspace-status.js';
import './event.js';
import './token.js';
import './workspace.js';
import './errors.js';
import './workspace-order.js';
import './workspace-frontend.js';
import '../resolvers/workspace.js';
import '../resolvers/event.js';
import './workspace-mutation-types.js';
import '../resolvers/workspace-mutations.js';
import './org-token.js';
import './secret.js';
import '../resolvers/token.js';
import '../resolvers/org-token.js';
import '../resolvers/secret.js';
import './status-change.js';
import '../resolvers/subscription.js';
import '../resolvers/activity.js';
import './log-line.js';
import '../resolvers/logs.js';
import './container.js';
import './lifecycle.js';
import '../resolvers/lifecycle.js';
import './subsystem.js';
import '../resolvers/subsystems.js';
import './node.js';
import '../resolvers/node.js';
import '../resolvers/workspace-counts.js';

export const schema = builder.toSchema({ sortSchema: false });
