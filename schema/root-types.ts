// Root types other than Query. Declared here so a module that adds the first field does not also have
// to own the declaration.
import { builder } from './builder.js';

// No mutation for a read-only org token (nor a workspace token, nor anonymous): checked for every
// Mutation field, on top of the field's own scopes, so a mutation added later cannot forget it.
builder.mutationType({ authScopes: { operator: true } });
builder.subscriptionType({});
export {};
