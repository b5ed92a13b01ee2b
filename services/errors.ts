// Expected failures, thrown by services and turned into the typed union members of API.md by the
// Pothos errors plugin (schema/errors.ts). Anything else that escapes a resolver is masked.
import type { WorkspaceRecord } from './workspaces/record.js';

export class DomainError extends Error {}

export class NotFoundError extends DomainError {
  name = 'NotFoundError';
  constructor(message = 'workspace not found') {
    super(message);
  }
}

export interface FieldProblem {
  field: string;
  message: string;
}

export class InvalidInputError extends DomainError {
  name = 'InvalidInputError';
  constructor(
    readonly fieldErrors: FieldProblem[],
    message = fieldErrors.map((f) => `${f.field}: ${f.message}`).join('; ') || 'invalid input',
  ) {
    super(message);
  }
}

export class ConflictError extends DomainError {
  name = 'ConflictError';
}

export class ConfirmationRequiredError extends DomainError {
  name = 'ConfirmationRequiredError';
  constructor(readonly children: WorkspaceRecord[], message = 'deleting this workspace also deletes its children; pass confirm: true') {
    super(message);
  }
}

export class ParentPausedError extends DomainError {
  name = 'ParentPausedError';
  constructor(readonly parent: WorkspaceRecord, message = 'an ancestor of this workspace is paused') {
    super(message);
  }
}

export class ActiveTasksError extends DomainError {
  name = 'ActiveTasksError';
  constructor(readonly activeTasks: number, message = `workspace has ${activeTasks} active task(s); pass force: true`) {
    super(message);
  }
}

export class TokenLimitError extends DomainError {
  name = 'TokenLimitError';
  constructor(readonly limit: number, message = `a workspace may have at most ${limit} live tokens`) {
    super(message);
  }
}

export class RuntimeUnavailableError extends DomainError {
  name = 'RuntimeUnavailableError';
  constructor(message = 'no container runtime is reachable') {
    super(message);
  }
}

/**
 * Malformed pagination arguments (negative `first`, a bad cursor or `afterEventId`). Not a union
 * member: API.md makes it a GraphQL error with extensions.code BAD_USER_INPUT (http/graphql.ts maps it).
 */
export class BadUserInputError extends DomainError {
  name = 'BadUserInputError';
}
