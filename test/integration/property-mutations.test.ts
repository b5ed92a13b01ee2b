// Hostile inputs at every mutation: each answer must be a typed error, a validation error or another
// 4xx, never HTTP 500 or "Unexpected error.", and a checksum of every table proves nothing changed.
// Only inputs that must be refused are generated (unknown ids, invalid values, wrong types).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../support/server.js';
import { createExternal } from '../graphql/fixtures.js';

const RUNS_PER_MUTATION = 12;

const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\n\r\t', '\u0085', '\u007f', "'; DROP TABLE workspaces; --", '{}[]|>*&!', '../../etc/passwd', '%00', '\\u0000'),
  fc.integer({ min: 1, max: 200_000 }).map((n) => 'x'.repeat(n)),
  fc.uuid(),
);
/** Any JSON value: strings, numbers (huge, negative, fractional), booleans, null, arrays, objects. */
const wrongType = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 1e308, -0.5, Number.MAX_SAFE_INTEGER));
/** An id that exists nowhere: hostile strings or fresh UUIDs, or a value of the wrong type. */
const unknownId = fc.oneof(hostileString, fc.uuid(), wrongType);
const isValidName = (s: string) => [...s].length >= 1 && [...s].length <= 255 && !/[\u0000-\u001f\u007f-\u009f{}[\]|>*&!]/.test(s);
const invalidName = fc.oneof(hostileString.filter((s) => !isValidName(s)), wrongType.filter((v) => typeof v !== 'string'), fc.constant(null));
const isValidSecretKey = (k: string) => /^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(k) && !/^MOLECULE_/i.test(k) && !['WORKSPACE_ID', 'PLATFORM_URL', 'WORKSPACE_CONFIG_PATH', 'TIER', 'HEARTBEAT_INTERVAL_S'].includes(k);
const anyField = fc.oneof(hostileString, wrongType, fc.integer(), fc.constant(undefined));

interface Case {
  name: string;
  query: string;
  vars: fc.Arbitrary<Record<string, unknown>>;
}

describe('hostile input to every mutation', () => {
  let s: TestServer;
  let fixtureId = '';
  const cases = (): Case[] => [
    {
      name: 'createWorkspace',
      query: 'mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { __typename } }',
      vars: fc.record({
        input: fc.oneof(
          fc.record(
            { name: invalidName, role: anyField, tier: anyField, runtime: anyField, image: anyField, parentId: anyField, url: anyField, secrets: anyField },
            { requiredKeys: ['name'] },
          ),
          wrongType,
        ),
      }),
    },
    {
      name: 'updateWorkspace',
      query: 'mutation($id: ID!, $input: UpdateWorkspaceInput!) { updateWorkspace(id: $id, input: $input) { __typename } }',
      vars: fc.record({ id: unknownId, input: fc.oneof(fc.record({ name: anyField, tier: anyField, parentId: anyField }), wrongType) }),
    },
    {
      name: 'deleteWorkspace',
      query: 'mutation($id: ID!, $c: Boolean, $p: Boolean) { deleteWorkspace(id: $id, confirm: $c, purge: $p) { __typename } }',
      vars: fc.record({ id: unknownId, c: fc.oneof(fc.boolean(), wrongType), p: fc.oneof(fc.boolean(), wrongType) }),
    },
    ...['restartWorkspace', 'pauseWorkspace', 'resumeWorkspace', 'hibernateWorkspace'].map((m) => ({
      name: m,
      query: `mutation($id: ID!) { ${m}(id: $id) { __typename } }`,
      vars: fc.record({ id: unknownId }),
    })),
    {
      name: 'createWorkspaceToken',
      query: 'mutation($id: ID!) { createWorkspaceToken(workspaceId: $id) { __typename } }',
      vars: fc.record({ id: unknownId }),
    },
    {
      name: 'revokeWorkspaceToken',
      query: 'mutation($id: ID!, $t: ID!) { revokeWorkspaceToken(workspaceId: $id, tokenId: $t) { __typename } }',
      vars: fc.record({ id: fc.oneof(unknownId, fc.constant(fixtureId)), t: unknownId }),
    },
    {
      name: 'createOrgToken',
      query: 'mutation($n: String, $ro: Boolean) { createOrgToken(name: $n, readOnly: $ro) { __typename } }',
      vars: fc.oneof(
        fc.record({
          n: fc.oneof(
            fc.integer({ min: 101, max: 5000 }).map((n) => 'n'.repeat(n)),
            fc.string({ maxLength: 50 }).map((x) => `${x}\u0000`),
            wrongType.filter((v) => typeof v !== 'string' && v !== null),
          ),
          ro: fc.oneof(fc.boolean(), fc.constant(null), fc.constant(undefined)),
        }),
        // A valid name with a readOnly that is not a Boolean.
        fc.record({ n: fc.constantFrom('wall', null), ro: fc.oneof(hostileString, wrongType.filter((v) => typeof v !== 'boolean' && v !== null), fc.constantFrom('true', 'false', 0, 1)) }),
      ),
    },
    {
      name: 'revokeOrgToken',
      query: 'mutation($id: ID!) { revokeOrgToken(id: $id) { __typename } }',
      vars: fc.record({ id: unknownId }),
    },
    {
      name: 'setWorkspaceSecret',
      query: 'mutation($id: ID!, $k: String!, $v: String!) { setWorkspaceSecret(workspaceId: $id, key: $k, value: $v) { __typename } }',
      vars: fc.oneof(
        fc.record({ id: unknownId, k: anyField, v: anyField }),
        fc.record({ id: fc.constant(fixtureId), k: fc.oneof(hostileString.filter((k) => !isValidSecretKey(k)), wrongType), v: anyField }),
      ),
    },
    {
      name: 'deleteWorkspaceSecret',
      query: 'mutation($id: ID!, $k: String!) { deleteWorkspaceSecret(workspaceId: $id, key: $k) { __typename } }',
      vars: fc.record({ id: fc.oneof(unknownId, fc.constant(fixtureId)), k: anyField }),
    },
  ];

  beforeAll(async () => {
    s = await startTestServer();
    fixtureId = (await createExternal(s, { name: 'fixture' })).workspace.id;
    await createExternal(s, { name: 'child', parentId: fixtureId });
  });
  afterAll(async () => {
    await s?.stop();
  });

  /** md5 of every table's rows (reconciler_ticks excluded: the background loops write it). */
  async function checksum(): Promise<string> {
    const tables = ['workspaces', 'workspace_auth_tokens', 'org_api_tokens', 'workspace_secrets', 'workspace_events', 'platform_settings'];
    const parts: string[] = [];
    for (const t of tables) {
      const r = await s.db.pool.query(`SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM ${t} x`);
      parts.push(`${t}:${r.rows[0].h}`);
    }
    return parts.join(' ');
  }

  async function send(query: string, variables: Record<string, unknown>) {
    const res = await s.http('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, text: await res.text() };
  }

  it(
    'answers every refused input with a typed error or a 4xx and changes no table',
    async () => {
      const before = await checksum();
      for (const c of cases()) {
        await fc.assert(
          fc.asyncProperty(c.vars, async (vars) => {
            const { status, text } = await send(c.query, vars);
            const context = `${c.name} ${JSON.stringify(vars).slice(0, 300)} -> ${status} ${text.slice(0, 300)}`;
            expect(status, context).toBeLessThan(500);
            expect(text, context).not.toContain('Unexpected error');
            const body = JSON.parse(text) as { data?: Record<string, { __typename: string } | null> | null; errors?: unknown[] };
            const answer = body.data?.[c.name];
            if (answer) expect(answer.__typename, context).toMatch(/Error$/);
            else expect(body.errors?.length, context).toBeGreaterThan(0);
          }),
          { numRuns: RUNS_PER_MUTATION },
        );
      }
      expect(await checksum()).toBe(before);
    },
    120_000,
  );
});
