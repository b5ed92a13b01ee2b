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

/** hasPreviousPage: false where a connection pages forward only and does not compute it. */
export function toConnection<T>(items: Array<{ node: T; cursor: string }>, hasNextPage: boolean, hasPreviousPage = false): Connection<T> {
  return {
    edges: items,
    pageInfo: {
      hasNextPage,
      hasPreviousPage,
      startCursor: items[0]?.cursor ?? null,
      endCursor: items[items.length - 1]?.cursor ?? null,
    },
  };
}

/** `workspaces(first:, last:)`: how many rows, and whether they are the last N (read backwards). */
export function pageWindow(first: number | null | undefined, last: number | null | undefined): { size: number; backward: boolean } {
  const given = (n: number | null | undefined) => n !== null && n !== undefined;
  if (given(first) && given(last)) throw new BadUserInputError('first and last cannot be combined');
  if (given(last)) {
    if (last! < 0) throw new BadUserInputError('last must not be negative');
    return { size: Math.min(last!, MAX_PAGE_SIZE), backward: true };
  }
  return { size: pageSize(first), backward: false };
}
