// How the workspace list is ordered and where a cursor points (API.md "Pagination and ordering").
//
// Every order is one sort key K and the id as tiebreak, both in the same direction, so one row
// comparison `(K, id) > (k, i)` is the whole keyset predicate and an index on (K, id) serves it in both
// directions (a backward scan is the other direction). LAST_HEARTBEAT_AT keeps workspaces never heard
// from last in both directions by sorting on COALESCE(last_heartbeat_at, ±infinity), which no real
// heartbeat can equal. NAME compares bytes (COLLATE "C"): the same order on every database, whatever
// its locale.
//
// A cursor carries the order and a fingerprint of the filters it was made under, so a cursor used
// with another orderBy, search, status, parentId or includeRemoved is refused (BAD_USER_INPUT)
// instead of silently pointing somewhere else.
import { createHash } from 'node:crypto';
import { Prisma } from '../db/client.js';
import { BadUserInputError } from '../errors.js';
import { isUuid, WORKSPACE_STATUSES, type WorkspaceStatus } from './record.js';

export const ORDER_FIELDS = ['CREATED_AT', 'NAME', 'STATUS', 'LAST_HEARTBEAT_AT'] as const;
export type OrderField = (typeof ORDER_FIELDS)[number];
export const ORDER_DIRECTIONS = ['ASC', 'DESC'] as const;
export type OrderDirection = (typeof ORDER_DIRECTIONS)[number];

export interface WorkspaceOrder {
  field: OrderField;
  direction: OrderDirection;
}

export const DEFAULT_ORDER: WorkspaceOrder = { field: 'CREATED_AT', direction: 'ASC' };

/** What a cursor is only valid for (besides the order). */
export interface CursorScope {
  search: string | null;
  status: readonly WorkspaceStatus[] | null;
  parentId: string | null;
  includeRemoved: boolean;
}

/** A row's place in the order: its sort key as text (null: never heard from) and its id. */
export interface Position {
  key: string | null;
  id: string;
}

/** The sort key of the row aliased `alias` (a fixed table alias, never client input). */
function sortKey(order: WorkspaceOrder, alias: 'w' | 'p'): Prisma.Sql {
  const a = Prisma.raw(alias);
  switch (order.field) {
    case 'CREATED_AT':
      return Prisma.sql`${a}.created_at`;
    case 'NAME':
      return Prisma.sql`${a}.name COLLATE "C"`;
    case 'STATUS':
      // Enum comparison follows the declaration order, as API.md asks.
      return Prisma.sql`${a}.status`;
    case 'LAST_HEARTBEAT_AT':
      return order.direction === 'ASC'
        ? Prisma.sql`COALESCE(${a}.last_heartbeat_at, 'infinity'::timestamptz)`
        : Prisma.sql`COALESCE(${a}.last_heartbeat_at, '-infinity'::timestamptz)`;
  }
}

/** The text a row's cursor keeps of its sort key (timestamps in microseconds: a Date drops them). */
export function cursorKeySql(order: WorkspaceOrder): Prisma.Sql {
  switch (order.field) {
    case 'CREATED_AT':
      return Prisma.sql`(extract(epoch FROM p.created_at) * 1000000)::bigint::text`;
    case 'NAME':
      return Prisma.sql`p.name`;
    case 'STATUS':
      return Prisma.sql`p.status::text`;
    case 'LAST_HEARTBEAT_AT':
      return Prisma.sql`(extract(epoch FROM p.last_heartbeat_at) * 1000000)::bigint::text`;
  }
}

const micros = (us: string) => Prisma.sql`(timestamptz 'epoch' + (${us} || ' microseconds')::interval)`;

/** The cursor's sort key as a value comparable with sortKey(). */
function keyValue(order: WorkspaceOrder, key: string | null): Prisma.Sql {
  switch (order.field) {
    case 'CREATED_AT':
      return micros(key!);
    case 'NAME':
      return Prisma.sql`${key}::text COLLATE "C"`;
    case 'STATUS':
      return Prisma.sql`${key}::workspace_status`;
    case 'LAST_HEARTBEAT_AT':
      if (key !== null) return micros(key);
      return order.direction === 'ASC' ? Prisma.sql`'infinity'::timestamptz` : Prisma.sql`'-infinity'::timestamptz`;
  }
}

export type Side = 'after' | 'before' | 'atOrBefore' | 'atOrAfter';

/** Rows on `side` of the position, in this order ("after" = later in the order, whatever the direction). */
export function keysetPredicate(order: WorkspaceOrder, at: Position, side: Side): Prisma.Sql {
  const later = side === 'after' || side === 'atOrAfter';
  const inclusive = side === 'atOrBefore' || side === 'atOrAfter';
  const greater = later === (order.direction === 'ASC');
  const op = Prisma.raw(`${greater ? '>' : '<'}${inclusive ? '=' : ''}`);
  return Prisma.sql`(${sortKey(order, 'w')}, w.id) ${op} (${keyValue(order, at.key)}, ${at.id}::uuid)`;
}

/** ORDER BY of the order, or of its reverse (reading the last N backwards). */
export function orderBySql(order: WorkspaceOrder, alias: 'w' | 'p', reversed = false): Prisma.Sql {
  const desc = (order.direction === 'DESC') !== reversed;
  const dir = Prisma.raw(desc ? 'DESC' : 'ASC');
  return Prisma.sql`${sortKey(order, alias)} ${dir}, ${Prisma.raw(alias)}.id ${dir}`;
}

function fingerprint(order: WorkspaceOrder, scope: CursorScope): string {
  const status = scope.status ? [...new Set(scope.status)].sort() : null;
  const parentId = scope.parentId === null ? null : scope.parentId.toLowerCase();
  const canonical = JSON.stringify([order.field, order.direction, scope.search, status, parentId, scope.includeRemoved]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

/** Encodes the cursors of one page: the fingerprint (a hash) is computed once, not once per row. */
export function cursorEncoder(order: WorkspaceOrder, scope: CursorScope): (at: Position) => string {
  const print = JSON.stringify(fingerprint(order, scope));
  return (at) => Buffer.from(`[${print},${JSON.stringify(at.key)},${JSON.stringify(at.id)}]`, 'utf8').toString('base64url');
}

export function encodeCursor(order: WorkspaceOrder, scope: CursorScope, at: Position): string {
  return cursorEncoder(order, scope)(at);
}

const MAX_CURSOR_CHARS = 2048;

// PostgreSQL's timestamptz range in microseconds since the epoch (4714-11-24 BC to the int64 limit): a
// key outside it would fail in SQL ("timestamp out of range") instead of being refused as input.
const MIN_TIMESTAMP_US = -210866803200000000n;
const MAX_TIMESTAMP_US = 9223372036854775807n;

function validMicros(key: unknown): key is string {
  if (typeof key !== 'string' || !/^-?[0-9]{1,19}$/.test(key)) return false;
  const us = BigInt(key);
  return us >= MIN_TIMESTAMP_US && us <= MAX_TIMESTAMP_US;
}

function validKey(order: WorkspaceOrder, key: unknown): key is string | null {
  switch (order.field) {
    case 'CREATED_AT':
      return validMicros(key);
    case 'LAST_HEARTBEAT_AT':
      return key === null || validMicros(key);
    case 'NAME':
      // PostgreSQL text cannot hold NUL, and no name does (control characters are refused).
      return typeof key === 'string' && key.length <= 1000 && !key.includes('\u0000');
    case 'STATUS':
      return typeof key === 'string' && (WORKSPACE_STATUSES as readonly string[]).includes(key);
  }
}

/** The position a cursor points at; BAD_USER_INPUT when malformed or made for another order or filters. */
export function decodeCursor(cursor: string, order: WorkspaceOrder, scope: CursorScope, arg: 'after' | 'before'): Position {
  let parsed: unknown = null;
  if (cursor.length <= MAX_CURSOR_CHARS && /^[A-Za-z0-9_-]+$/.test(cursor)) {
    try {
      parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      parsed = null;
    }
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || !validKey(order, parsed[1]) || !isUuid(parsed[2])) {
    throw new BadUserInputError(`malformed cursor in ${arg}`);
  }
  if (parsed[0] !== fingerprint(order, scope)) {
    throw new BadUserInputError(`the ${arg} cursor belongs to another orderBy, search, status, parentId or includeRemoved`);
  }
  return { key: parsed[1], id: parsed[2] };
}

const MAX_SEARCH_CHARS = 200;

/**
 * The ILIKE pattern matching names or roles that contain `search`: every `\`, `%` and `_` of the input
 * is escaped (backslash is ILIKE's default escape), so they match themselves. The pattern is a bind
 * parameter; nothing the client sends becomes SQL text.
 */
export function containsPattern(search: string): string {
  const length = [...search].length;
  if (length < 1 || length > MAX_SEARCH_CHARS) throw new BadUserInputError(`search must be 1 to ${MAX_SEARCH_CHARS} characters`);
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The predicate of `search` over the row aliased w. A search holding NUL matches nothing: no name or
 * role can contain one (control characters are refused), and PostgreSQL text cannot even carry it.
 */
export function searchPredicate(search: string): Prisma.Sql {
  const pattern = containsPattern(search);
  if (search.includes('\u0000')) return Prisma.sql`false`;
  return Prisma.sql`(w.name ILIKE ${pattern} OR w.role ILIKE ${pattern})`;
}
