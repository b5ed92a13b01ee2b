// Root types other than Query. Declared here so a module that adds the first field does not also have
// to own the declaration.
import { builder } from './builder.js';

builder.mutationType({});
builder.subscriptionType({});
export {};
