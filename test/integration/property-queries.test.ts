// Hostile arguments at every query and subscription argument a frontend uses (the sibling of
// property-mutations.test.ts): first/last/after/before, search, orderBy, status, parentId and
// includeRemoved of `workspaces`; node/nodes ids; workspaceCounts(parentId); events and
// Workspace.events; Workspace.logs(tail); and the subscriptions' filters, afterEventId and
// workspaceLogs(tail) over graphql-ws. Whatever is sent, valid or not: never HTTP 500, never the masked
// "Unexpected error." (a refusal is BAD_USER_INPUT or a validation error), and no table changes.
// Cursors are also tampered with the way a client could: decoded, a part replaced, encoded again.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tablesChecksum } from '../support/registry-fixtures.js';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';
import { connectWs, type WsClient } from '../support/subscriptions.js';
import { createExternal, mintWorkspaceToken } from '../graphql/fixtures.js';

const RUNS = 40;
/** Fewer for subscriptions: a valid one is watched for a while before it is left. */
const SUBSCRIPTION_RUNS = 20;

const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\ud800', '%', '_', '\\', '%_\\', "'; DROP TABLE workspaces; --", '0', '-1', '01', '9'.repeat(30)),
  fc.integer({ min: 190, max: 5_000 }).map((n) => 'x'.repeat(n)),
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })).map(([a, b]) => `${a}\u0000${b}`),
);
const wrongType = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 1e308, -0.5, Number.MAX_SAFE_INTEGER));
const anyInt = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: -3, max: 150 }), wrongType, fc.constant(null));
const STATUSES = ['PROVISIONING', 'ONLINE', 'DEGRADED', 'OFFLINE', 'FAILED', 'PAUSED', 'HIBERNATING', 'HIBERNATED', 'AWAITING_AGENT', 'REMOVED'];
const statusList = fc.oneof(fc.array(fc.oneof(fc.constantFrom(...STATUSES), hostileString), { maxLength: 4 }), wrongType, fc.constant(null));
const ORDERS = ['CREATED_AT', 'NAME', 'STATUS', 'LAST_HEARTBEAT_AT'].flatMap((field) => ['ASC', 'DESC'].map((direction) => ({ field, direction })));
const orderBy = fc.oneof(
  fc.record({ field: fc.constantFrom('CREATED_AT', 'NAME', 'STATUS', 'LAST_HEARTBEAT_AT'), direction: fc.constantFrom('ASC', 'DESC', null, undefined) }),
  fc.record({ field: fc.oneof(hostileString, wrongType), direction: fc.oneof(hostileString, wrongType) }),
  wrongType,
  fc.constant(null),
);

/** A client's edit of an opaque cursor: decoded, one part replaced, encoded again. */
function tampered(cursors: () => string[]): fc.Arbitrary<string> {
  const part = fc.oneof(
    hostileString,
    wrongType,
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
    fc.constantFrom('9999999999999999999', '-9999999999999999999', '-9223372036854775808', 'x\u0000', null),
  );
  return fc.tuple(fc.nat(), fc.integer({ min: 0, max: 3 }), part).map(([i, at, value]) => {
    const list = cursors();
    const parts = JSON.parse(Buffer.from(list[i % list.length]!, 'base64url').toString('utf8')) as unknown[];
    if (at === 3) parts.push(value);
    else parts[at] = value;
    return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
  });
}

/**
 * One property per argument, the argument hostile and the others valid (a hostile value next to an
 * invalid one would mostly be refused for the other's sake, never reaching the code that must cope with
 * it), and one with every argument hostile at once.
 */
function oneHostile(valid: Record<string, fc.Arbitrary<unknown>>, hostile: Record<string, fc.Arbitrary<unknown>>): Array<[string, fc.Arbitrary<Record<string, unknown>>]> {
  return [
    ...Object.keys(hostile).map((key): [string, fc.Arbitrary<Record<string, unknown>>] => [key, fc.tuple(fc.record(valid), hostile[key]!).map(([base, v]) => ({ ...base, [key]: v }))]),
    ['all at once', fc.record(hostile)],
  ];
}

interface Case {
  name: string;
  query: string;
  vars: Array<[string, fc.Arbitrary<Record<string, unknown>>]>;
}

describe('hostile arguments to every query and subscription', () => {
  let s: TestServer;
  let ws: WsClient;
  const known: string[] = [];
  const cursors: string[] = [];

  beforeAll(async () => {
    s = await startTestServer({ RATE_LIMIT_PER_MIN: '1000000' });
    const parent = await createExternal(s, { name: 'prop parent', role: '100%_match' });
    const child = await createExternal(s, { name: 'prop child', parentId: parent.workspace.id });
    const { tokenId } = await mintWorkspaceToken(s, child.workspace.id);
    const org = await s.gql('mutation { createOrgToken(name: "prop") { ... on CreateOrgTokenSuccess { orgToken { id } } } }');
    known.push(parent.workspace.id, child.workspace.id, tokenId, org.data.createOrgToken.orgToken.id);
    for (const field of ['CREATED_AT', 'NAME', 'STATUS', 'LAST_HEARTBEAT_AT']) {
      for (const direction of ['ASC', 'DESC']) {
        const r = await s.gql('query($o: WorkspaceOrder) { workspaces(first: 1, orderBy: $o) { pageInfo { endCursor } } }', { o: { field, direction } });
        cursors.push(r.data.workspaces.pageInfo.endCursor);
      }
    }
    ws = connectWs(s);
  });
  afterAll(async () => {
    await ws?.dispose();
    await s?.stop();
  });

  const id = () => fc.oneof(hostileString, wrongType, fc.constantFrom(...known), fc.constantFrom(...known).map((k) => k.toUpperCase()), fc.constant(null));
  const cursor = () => fc.oneof(hostileString, wrongType, fc.constantFrom(...cursors), tampered(() => cursors), fc.constant(null));
  const eventId = fc.oneof(hostileString, wrongType, fc.constantFrom('0', '1', '2', '9223372036854775807', '9223372036854775808'), fc.constant(null));

  const queries = (): Case[] => [
    {
      name: 'workspaces',
      query: `query($first: Int, $after: String, $last: Int, $before: String, $status: [WorkspaceStatus!], $parentId: ID,
                    $includeRemoved: Boolean, $search: String, $orderBy: WorkspaceOrder) {
        workspaces(first: $first, after: $after, last: $last, before: $before, status: $status, parentId: $parentId,
                   includeRemoved: $includeRemoved, search: $search, orderBy: $orderBy) {
          totalCount eventCursor pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          edges { cursor node { id childCount allowedActions } }
        }
      }`,
      vars: oneHostile(
        { first: fc.constantFrom(null, 5), orderBy: fc.constantFrom(...ORDERS), search: fc.constantFrom(null, 'prop') },
        {
          first: anyInt,
          after: cursor(),
          last: anyInt,
          before: cursor(),
          status: statusList,
          parentId: id(),
          includeRemoved: fc.oneof(fc.boolean(), wrongType),
          search: fc.oneof(hostileString, wrongType, fc.constant(null)),
          orderBy,
        },
      ),
    },
    {
      name: 'node and nodes',
      query: 'query($id: ID!, $ids: [ID!]!) { node(id: $id) { id } nodes(ids: $ids) { id } }',
      vars: oneHostile({ id: fc.constantFrom(...known), ids: fc.constant(known) }, { id: id(), ids: fc.oneof(fc.array(id(), { maxLength: 120 }), wrongType) }),
    },
    {
      name: 'workspaceCounts',
      query: 'query($p: ID) { workspaceCounts(parentId: $p) { status count } }',
      vars: oneHostile({}, { p: id() }),
    },
    {
      name: 'events and Workspace.events',
      query: `query($w: ID, $id: ID!, $first: Int, $after: String) {
        events(workspaceId: $w, first: $first, after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } }
        workspace(id: $id) { events(first: $first, after: $after) { edges { cursor } } logs(tail: $first) }
      }`,
      vars: oneHostile({ w: fc.constant(null), id: fc.constantFrom(...known), first: fc.constant(null), after: fc.constant(null) }, { w: id(), id: id(), first: anyInt, after: eventId }),
    },
  ];

  const subscriptions = (): Case[] => [
    {
      name: 'workspaceStatusChanged',
      query: `subscription($w: ID, $p: ID, $s: [WorkspaceStatus!], $a: ID) {
        workspaceStatusChanged(workspaceId: $w, parentId: $p, status: $s, afterEventId: $a) { event { id } workspace { id } }
      }`,
      vars: oneHostile({ w: fc.constant(null), p: fc.constant(null), s: fc.constant(null), a: fc.constant('0') }, { w: id(), p: id(), s: statusList, a: eventId }),
    },
    {
      name: 'workspaceEvents',
      query: 'subscription($w: ID, $a: ID) { workspaceEvents(workspaceId: $w, afterEventId: $a) { id } }',
      vars: oneHostile({ w: fc.constant(null), a: fc.constant('0') }, { w: id(), a: eventId }),
    },
    {
      name: 'workspaceActivity',
      query: 'subscription($w: ID, $p: ID) { workspaceActivity(workspaceId: $w, parentId: $p) { id } }',
      vars: oneHostile({ w: fc.constant(null), p: fc.constant(null) }, { w: id(), p: id() }),
    },
    {
      name: 'workspaceLogs',
      query: 'subscription($w: ID!, $t: Int) { workspaceLogs(workspaceId: $w, tail: $t) { text } }',
      vars: oneHostile({ w: fc.constantFrom(...known), t: fc.constant(5) }, { w: id(), t: anyInt }),
    },
  ];

  const masked = (errors: unknown) => JSON.stringify(errors ?? null).includes('Unexpected error') || JSON.stringify(errors ?? null).includes('INTERNAL_SERVER_ERROR');

  it('answers every query argument with data or a client error, never a 5xx or a masked error, and changes nothing', async () => {
    const before = await tablesChecksum(s);
    for (const [c, arg, vars] of queries().flatMap((c) => c.vars.map(([arg, v]) => [c, arg, v] as const))) {
      await fc.assert(
        fc.asyncProperty(vars, async (vars) => {
          const res = await s.http('/graphql', {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
            body: JSON.stringify({ query: c.query, variables: vars }),
          });
          const text = await res.text();
          const context = `${c.name} (${arg}) ${JSON.stringify(vars).slice(0, 400)} -> ${res.status} ${text.slice(0, 400)}`;
          expect(res.status, context).toBeLessThan(500);
          expect(masked(text), context).toBe(false);
          const body = JSON.parse(text) as { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> };
          expect(body.data !== undefined && body.data !== null ? true : (body.errors?.length ?? 0) > 0, context).toBe(true);
        }),
        { numRuns: RUNS },
      );
    }
    expect(await tablesChecksum(s)).toBe(before);
  }, 120_000);

  it('answers every subscription argument over graphql-ws with data, a client error or a clean end, never a masked error, and changes nothing', async () => {
    const before = await tablesChecksum(s);
    for (const [c, arg, vars] of subscriptions().flatMap((c) => c.vars.map(([arg, v]) => [c, arg, v] as const))) {
      await fc.assert(
        fc.asyncProperty(vars, async (vars) => {
          const sub = ws.subscribe(c.query, vars);
          // A valid subscription may stay open with nothing to say: what it answers in 100 ms is checked.
          await sub.collected.until((x) => x.done || x.results.length > 0, 100).catch(() => undefined);
          sub.unsubscribe();
          const context = `${c.name} (${arg}) ${JSON.stringify(vars).slice(0, 400)} -> ${JSON.stringify({ results: sub.collected.results, error: sub.collected.error }).slice(0, 400)}`;
          expect(masked(sub.collected.results.map((r) => r.errors)), context).toBe(false);
          expect(masked(sub.collected.error), context).toBe(false);
          // The connection is never closed for what one subscription was sent (the lazy client closes it
          // normally, 1000, once it has no subscription left).
          expect(ws.closes.filter((code) => code !== 1000), context).toEqual([]);
        }),
        { numRuns: SUBSCRIPTION_RUNS },
      );
    }
    expect(await tablesChecksum(s)).toBe(before);
  }, 120_000);
});
