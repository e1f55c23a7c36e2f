import * as fs from 'node:fs';
import { get_dmmf } from '@prisma/prisma-schema-wasm';
import { createScratchDatabase, ScratchDatabase } from './test-support';
import { migrate } from './migrate';
import { MIGRATIONS_DIR, SCHEMA_PATH } from './paths';

/**
 * prisma/schema.prisma and prisma/migrations/ must describe the same database. Without a schema engine
 * `prisma migrate diff` cannot run here, so this test reads the schema through Prisma's own parser (the
 * WASM build that `prisma generate` uses) and compares it with what the migrations actually create:
 * every enum, table, column, type, nullability, default and index, both ways.
 */

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'enum' | 'object';
  type: string;
  isRequired: boolean;
  isList: boolean;
  hasDefaultValue: boolean;
  nativeType?: [string, string[]] | null;
  default?: { name: string; args: unknown[] } | unknown;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}
interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  dbName?: string | null;
  fields: { name: string; sortOrder?: 'asc' | 'desc' }[];
}
interface Dmmf {
  datamodel: {
    models: DmmfModel[];
    enums: { name: string; dbName: string | null; values: { name: string; dbName: string | null }[] }[];
    indexes: DmmfIndex[];
  };
}

const dmmf: Dmmf = JSON.parse(get_dmmf(JSON.stringify({ prismaSchema: fs.readFileSync(SCHEMA_PATH, 'utf8') })));
const tableOf = (m: DmmfModel) => m.dbName ?? m.name;
const columnOf = (f: DmmfField) => f.dbName ?? f.name;
const quoteIdent = (name: string) => (/^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name}"`);

/** The Postgres type Prisma's migrate would create for a field. */
function expectedType(f: DmmfField): string {
  if (f.kind === 'enum') return quoteIdent(f.type);
  const native = f.nativeType;
  if (native) {
    const [t, args] = native;
    const map: Record<string, string> = {
      Uuid: 'uuid',
      Text: 'text',
      Timestamptz: `timestamp(${args[0] ?? 3}) with time zone`,
      Timestamp: `timestamp(${args[0] ?? 3}) without time zone`,
      ByteA: 'bytea',
      JsonB: 'jsonb',
      Json: 'json',
      Integer: 'integer',
      BigInt: 'bigint',
      VarChar: `character varying(${args[0]})`,
    };
    const mapped = map[t];
    if (!mapped) throw new Error(`this test does not know native type @db.${t} yet: add it`);
    return mapped;
  }
  const scalars: Record<string, string> = {
    String: 'text',
    Int: 'integer',
    BigInt: 'bigint',
    Boolean: 'boolean',
    DateTime: 'timestamp(3) without time zone',
    Json: 'jsonb',
    Bytes: 'bytea',
    Float: 'double precision',
    Decimal: 'numeric(65,30)',
  };
  const mapped = scalars[f.type];
  if (!mapped) throw new Error(`unknown Prisma type ${f.type}`);
  return mapped;
}

function expectedIndexName(table: string, index: DmmfIndex, columns: string[]): string {
  if (index.dbName) return index.dbName;
  if (index.type === 'id') return `${table}_pkey`;
  return `${table}_${columns.join('_')}_${index.type === 'unique' ? 'key' : 'idx'}`;
}

describe('schema.prisma and the migrations agree', () => {
  let db: ScratchDatabase;

  beforeAll(async () => {
    db = await createScratchDatabase();
    await migrate(db.pool, MIGRATIONS_DIR);
  });
  afterAll(() => db.drop());

  it('has the same enums with the same values in the same order', async () => {
    const { rows } = await db.pool.query<{ name: string; labels: string[] }>(
      `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)::text[] AS labels
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' GROUP BY t.typname ORDER BY t.typname`,
    );
    const expected = dmmf.datamodel.enums.map((e) => ({ name: e.dbName ?? e.name, labels: e.values.map((v) => v.dbName ?? v.name) })).sort((a, b) => a.name.localeCompare(b.name));
    expect(rows).toEqual(expected);
  });

  it('has exactly the modelled tables', async () => {
    const { rows } = await db.pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' ORDER BY table_name",
    );
    expect(rows.map((r) => r.table_name)).toEqual(dmmf.datamodel.models.map(tableOf).sort());
  });

  it.each(dmmf.datamodel.models.map((m) => [m.name, m] as const))('model %s: every column, type, nullability and default', async (_name, model) => {
    const { rows } = await db.pool.query<{ column_name: string; type: string; not_null: boolean; has_default: boolean; default_sql: string | null }>(
      `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
              a.atthasdef AS has_default, pg_get_expr(d.adbin, d.adrelid) AS default_sql
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [`"${tableOf(model)}"`],
    );
    const scalarFields = model.fields.filter((f) => f.kind !== 'object');
    expect(rows.map((r) => r.column_name).sort()).toEqual(scalarFields.map(columnOf).sort());
    for (const f of scalarFields) {
      const column = rows.find((r) => r.column_name === columnOf(f));
      const isAutoincrement = (f.default as { name?: string } | undefined)?.name === 'autoincrement';
      // Client-side defaults (uuid(), cuid(), now() on @updatedAt…) create no database default.
      const clientSide = ['uuid', 'cuid', 'nanoid'].includes((f.default as { name?: string } | undefined)?.name ?? '');
      expect({ column: columnOf(f), type: column?.type, notNull: column?.not_null, hasDefault: column?.has_default }).toEqual({
        column: columnOf(f),
        type: expectedType(f),
        notNull: f.isRequired,
        hasDefault: f.hasDefaultValue && !clientSide,
      });
      if (isAutoincrement) expect(column?.default_sql).toMatch(/^nextval\(/);
      const dbGenerated = f.default as { name?: string; args?: string[] } | undefined;
      if (dbGenerated?.name === 'dbgenerated') {
        const normalize = (s: string) => s.replace(/[\s()]/g, '').toLowerCase();
        expect(normalize(column?.default_sql ?? '')).toBe(normalize(String(dbGenerated.args?.[0])));
      }
    }
  });

  it('has exactly the modelled indexes, with their names, columns and sort orders', async () => {
    const { rows } = await db.pool.query<{ table: string; name: string; unique: boolean; primary: boolean; definition: string }>(
      `SELECT c.relname AS table, i.relname AS name, x.indisunique AS unique, x.indisprimary AS primary,
              pg_get_indexdef(x.indexrelid) AS definition
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relname <> '_prisma_migrations' ORDER BY i.relname`,
    );
    const expected = dmmf.datamodel.indexes
      .map((index) => {
        const model = dmmf.datamodel.models.find((m) => m.name === index.model) as DmmfModel;
        const table = tableOf(model);
        const columns = index.fields.map((f) => columnOf(model.fields.find((mf) => mf.name === f.name) as DmmfField));
        const parts = index.fields.map((f, i) => `${quoteIdent(columns[i] as string)}${f.sortOrder === 'desc' ? ' DESC' : ''}`);
        return {
          table,
          name: expectedIndexName(table, index, columns),
          unique: index.type !== 'normal',
          primary: index.type === 'id',
          columns: parts.join(', '),
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
    const actual = rows.map((r) => ({
      table: r.table,
      name: r.name,
      unique: r.unique,
      primary: r.primary,
      columns: (/USING btree \((.*)\)$/.exec(r.definition)?.[1] ?? r.definition).trim(),
    }));
    expect(actual).toEqual(expected);
  });
});
