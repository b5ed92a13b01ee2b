// API.md's error types. Services throw the classes of services/errors.ts; a field that lists a class
// in `errors: { types: [...] }` answers it as this typed union member instead of a GraphQL error.
import {
  ActiveTasksError,
  ConfirmationRequiredError,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  ParentPausedError,
  RuntimeUnavailableError,
  TokenLimitError,
  type FieldProblem,
} from '../services/errors.js';
import { builder } from './builder.js';
import { WorkspaceRef } from './workspace.js';

export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  fields: (t) => ({ message: t.exposeString('message') }),
});

export const FieldErrorRef = builder.objectRef<FieldProblem>('FieldError').implement({
  fields: (t) => ({ field: t.exposeString('field'), message: t.exposeString('message') }),
});

builder.objectType(NotFoundError, { name: 'NotFoundError', interfaces: [ErrorInterface], fields: () => ({}) });
builder.objectType(ConflictError, { name: 'ConflictError', interfaces: [ErrorInterface], fields: () => ({}) });
builder.objectType(RuntimeUnavailableError, { name: 'RuntimeUnavailableError', interfaces: [ErrorInterface], fields: () => ({}) });

builder.objectType(InvalidInputError, {
  name: 'InvalidInputError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ fieldErrors: t.field({ type: [FieldErrorRef], resolve: (e) => e.fieldErrors }) }),
});

builder.objectType(ConfirmationRequiredError, {
  name: 'ConfirmationRequiredError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ children: t.field({ type: [WorkspaceRef], resolve: (e) => e.children }) }),
});

builder.objectType(ParentPausedError, {
  name: 'ParentPausedError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ parent: t.field({ type: WorkspaceRef, resolve: (e) => e.parent }) }),
});

builder.objectType(ActiveTasksError, {
  name: 'ActiveTasksError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ activeTasks: t.exposeInt('activeTasks') }),
});

builder.objectType(TokenLimitError, {
  name: 'TokenLimitError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ limit: t.exposeInt('limit') }),
});

// The classes are the refs: list them in a field's `errors: { types: [...] }`.
export {
  ActiveTasksError,
  ConfirmationRequiredError,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  ParentPausedError,
  RuntimeUnavailableError,
  TokenLimitError,
};
