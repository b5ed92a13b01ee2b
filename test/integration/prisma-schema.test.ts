// The Prisma models (prisma/schema.prisma, read with Prisma's own schema parser) and the tables the SQL
// migrations create must agree column by column: name, type, nullability and default (DESIGN.md).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum';
  type: string;
  isRequired: boolean;
  isList: boolean;
  hasDefaultValue: boolean;
  nativeType: [string, string[]] | null;
  default?: unknown;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}
interface DmmfEnum {
  name: string;
  dbName: string | null;
  values: Array<{ name: string }>;
}

function readDatamodel(): { models: DmmfModel[]; enums: DmmfEnum[] } {
  const wasm = createRequire(import.meta.url)('@prisma/prisma-schema-wasm') as { get_dmmf(params: string): string };
  const schema = readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8');
  return JSON.parse(wasm.get_dmmf(JSON.stringify({ prismaSchema: schema }))).datamodel;
}

/** What PostgreSQL reports (information_schema data_type / udt_name) for a Prisma field. */
function expectedType(f: DmmfField, enums: DmmfEnum[]): string {
  if (f.kind === 'enum') return `USER-DEFINED:${enums.find((e) => e.name === f.type)!.dbName ?? f.type}`;
  const native = f.nativeType?.[0];
  const byNative: Record<string, string> = { Uuid: 'uuid', SmallInt: 'smallint', Timestamptz: 'timestamp with time zone', Text: 'text' };
  if (native) return byNative[native] ?? `unmapped native ${native}`;
  const byType: Record<string, string> = {
    String: 'text',
    Int: 'integer',
    BigInt: 'bigint',
    Float: 'double precision',
    Boolean: 'boolean',
    DateTime: 'timestamp without time zone',
    Json: 'jsonb',
    Bytes: 'bytea',
  };
  return byType[f.type] ?? `unmapped ${f.type}`;
}

/** Prisma's default as the text PostgreSQL shows once casts and quoting are removed. */
function expectedDefault(f: DmmfField): string | null {
  if (!f.hasDefaultValue) return null;
  const d = f.default as { name?: string; args?: unknown[] } | string | number | boolean;
  if (typeof d === 'object' && d !== null && 'name' in d) {
    if (d.name === 'autoincrement') return 'nextval()';
    if (d.name === 'dbgenerated') return String(d.args?.[0]);
    if (d.name === 'now') return 'now()';
    return `${d.name}()`;
  }
  return String(d);
}

function normaliseDefault(pg: string | null): string | null {
  if (pg === null) return null;
  if (pg.startsWith('nextval(')) return 'nextval()';
  const literal = /^'((?:[^']|'')*)'::[a-z ]+$/.exec(pg);
  if (literal) return literal[1]!.replace(/''/g, "'");
  return pg.replace(/::[a-z_ ]+$/, '');
}

describe('Prisma models agree with the migrated tables', () => {
  let s: TestServer;
  const datamodel = readDatamodel();
  let columns: Array<{ table_name: string; column_name: string; data_type: string; udt_name: string; is_nullable: string; column_default: string | null }>;

  beforeAll(async () => {
    s = await startTestServer();
    columns = (
      await s.db.pool.query(
        `SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default
           FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_migrations'
          ORDER BY table_name, ordinal_position`,
      )
    ).rows;
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('reads a non-trivial datamodel', () => {
    expect(datamodel.models.map((m) => m.dbName ?? m.name)).toEqual(
      expect.arrayContaining(['workspaces', 'workspace_auth_tokens', 'org_api_tokens', 'workspace_secrets', 'workspace_events']),
    );
  });

  it('has a model for every table and a table for every model', () => {
    const tables = [...new Set(columns.map((c) => c.table_name))].sort();
    expect(datamodel.models.map((m) => m.dbName ?? m.name).sort()).toEqual(tables);
  });

  for (const model of readDatamodel().models) {
    const table = model.dbName ?? model.name;
    it(`${model.name} (${table}): same columns, types, nullability and defaults`, () => {
      const actual = columns
        .filter((c) => c.table_name === table)
        .map((c) => ({
          column: c.column_name,
          type: c.data_type === 'USER-DEFINED' ? `USER-DEFINED:${c.udt_name}` : c.data_type,
          nullable: c.is_nullable === 'YES',
          default: normaliseDefault(c.column_default),
        }))
        .sort((a, b) => a.column.localeCompare(b.column));
      const expected = model.fields
        .filter((f) => f.kind !== 'object')
        .map((f) => ({
          column: f.dbName ?? f.name,
          type: expectedType(f, datamodel.enums),
          nullable: !f.isRequired,
          default: expectedDefault(f),
        }))
        .sort((a, b) => a.column.localeCompare(b.column));
      expect(actual).toEqual(expected);
    });
  }

  it('has the same enum values in Prisma and PostgreSQL', async () => {
    for (const e of datamodel.enums) {
      const rows = await s.db.pool.query(
        `SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = $1 ORDER BY e.enumsortorder`,
        [e.dbName ?? e.name],
      );
      expect(rows.rows.map((r) => r.enumlabel)).toEqual(e.values.map((v) => v.name));
    }
  });
});
