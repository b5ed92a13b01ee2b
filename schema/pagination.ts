// Keyset pagination shared by every connection (API.md): `first` defaults to 20 and is capped at 100;
// 0 is an empty page; a negative value is BAD_USER_INPUT (mapped in http/graphql.ts).
import { BadUserInputError } from '../services/errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (first < 0) throw new BadUserInputError('first must not be negative');
  return Math.min(first, MAX_PAGE_SIZE);
}

export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

export function toConnection<T>(items: Array<{ node: T; cursor: string }>, hasNextPage: boolean): Connection<T> {
  return {
    edges: items,
    pageInfo: {
      hasNextPage,
      // Forward-only pagination: whether anything precedes `after` is not computed.
      hasPreviousPage: false,
      startCursor: items[0]?.cursor ?? null,
      endCursor: items[items.length - 1]?.cursor ?? null,
    },
  };
}
