// Errors as the user should read them. Typed mutation errors are data (their __typename says which);
// request-level errors carry extensions.code.
import type { CombinedError } from '@urql/core';

export interface MutationErrorShape {
  __typename: string;
  message: string;
  fieldErrors?: ReadonlyArray<{ field: string; message: string }>;
  parent?: { id: string; name: string };
  activeTasks?: number;
  limit?: number;
}

/** The sentence to show for a typed mutation error. */
export function typedErrorMessage(error: MutationErrorShape, subject: string): string {
  switch (error.__typename) {
    case 'NotFoundError':
      return `${subject} no longer exists.`;
    case 'ParentPausedError':
      return `Parent “${error.parent?.name ?? 'workspace'}” is paused: resume it first.`;
    case 'RuntimeUnavailableError':
      return 'No container runtime is reachable right now. Try again once Docker is back.';
    case 'ActiveTasksError':
      return `${subject} has ${error.activeTasks} active task${error.activeTasks === 1 ? '' : 's'}.`;
    case 'TokenLimitError':
      return `This workspace already has ${error.limit} live tokens: revoke one first.`;
    case 'InvalidInputError':
      return error.fieldErrors?.length ? error.fieldErrors.map((f) => f.message).join(' ') : error.message;
    default:
      return error.message;
  }
}

export type ErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'RATE_LIMITED' | 'SERVICE_UNAVAILABLE' | 'EVENTS_EXPIRED' | 'BAD_USER_INPUT';

export function errorCode(error: CombinedError | undefined): ErrorCode | undefined {
  const code = error?.graphQLErrors.find((e) => e.extensions?.code)?.extensions?.code;
  return typeof code === 'string' ? (code as ErrorCode) : undefined;
}

/** The sentence to show for a failed request (no typed result came back). */
export function requestErrorMessage(error: CombinedError): string {
  const first = error.graphQLErrors[0];
  switch (errorCode(error)) {
    case 'RATE_LIMITED': {
      const wait = Number(first?.extensions?.retryAfter);
      return `Too many requests: try again in ${Number.isFinite(wait) ? wait : 60} s.`;
    }
    case 'SERVICE_UNAVAILABLE':
      return 'Server unavailable, retrying…';
    case 'FORBIDDEN':
      return 'Your token may not do this.';
    case 'UNAUTHENTICATED':
      return 'Your token is no longer accepted. Sign in again.';
    default:
      if (error.networkError) return 'The server cannot be reached.';
      // A masked error carries the request id an operator can look up in the server's log.
      return first?.extensions?.requestId ? `${first.message} (request ${first.extensions.requestId})` : (first?.message ?? error.message);
  }
}
