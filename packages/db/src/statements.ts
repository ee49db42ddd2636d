import { and, eq, sql } from 'drizzle-orm';
import type { Database } from './client.js';
import { generations, type GenerationRow, type NewGenerationRow } from './schema.js';

/**
 * The two statements every generation runs on its record, its insert and each change's update, with their SQL built
 * once per set of columns. Drizzle builds a query's SQL on every call, which for a row this wide costs 0.2–0.5 ms of
 * CPU (`bash bench/db/run.sh`). The statements stay unnamed (parsed by the server on every call), so they work
 * behind a transaction-mode connection pooler (PgBouncer, Supavisor), which named prepared statements do not.
 *
 * Only for the database itself, not inside a transaction (a statement is bound to the session it was built on).
 */
export interface GenerationStatements {
  /** Inserts a record and returns it as stored (its defaults filled in). */
  insert(values: NewGenerationRow): Promise<GenerationRow>;
  /** Writes `set` over the record `id` at revision `revision`; undefined when it is no longer at that revision. */
  update(id: string, revision: number, set: Partial<NewGenerationRow>): Promise<GenerationRow | undefined>;
}

/** A built statement: run with the values of its placeholders. */
interface Built {
  execute(values: Record<string, unknown>): Promise<GenerationRow[]>;
}

/** Distinct column sets kept per database and statement; past this, statements are built per call. */
const MAX_SHAPES = 64;
/** The placeholders of the update's condition (apart from the columns', which are named after the columns). */
const ID = '$id';
const REVISION = '$revision';

const built = new WeakMap<Database, GenerationStatements>();

/** The statements of `db`, made on first use. */
export function generationStatements(db: Database): GenerationStatements {
  let statements = built.get(db);
  if (!statements) built.set(db, (statements = makeStatements(db)));
  return statements;
}

function makeStatements(db: Database): GenerationStatements {
  const inserts = new Map<string, Built>();
  const updates = new Map<string, Built>();
  /** The statement for `shape` from `cache`, built (and kept while there is room) on first use. */
  const statement = (cache: Map<string, Built>, shape: string, build: () => Built): Built => {
    const known = cache.get(shape);
    if (known) return known;
    const made = build();
    if (cache.size < MAX_SHAPES) cache.set(shape, made);
    return made;
  };
  return {
    async insert(values) {
      const { shape, columns, params } = placeholders(values);
      const query = statement(inserts, shape, () =>
        db
          .insert(generations)
          .values(columns() as unknown as NewGenerationRow)
          .returning()
          .prepare(''),
      );
      const [row] = await query.execute(params);
      return row!;
    },
    async update(id, revision, set) {
      const { shape, columns, params } = placeholders(set);
      const query = statement(updates, shape, () =>
        db
          .update(generations)
          .set(columns() as Partial<NewGenerationRow>)
          .where(and(eq(generations.id, sql.placeholder(ID)), eq(generations.revision, sql.placeholder(REVISION))))
          .returning()
          .prepare(''),
      );
      const [row] = await query.execute({ ...params, [ID]: id, [REVISION]: revision });
      return row;
    },
  };
}

/**
 * The statement's shape (which columns it sets, and which of them to NULL), the values of its placeholders, and its
 * columns to build it with (only on the first call of a shape): a placeholder for every column given a value, and a
 * literal NULL for every column given null (a placeholder's value goes through its column's encoder, which would
 * store a JSON `null` in a jsonb column, or throw for a timestamp). Columns left undefined take their defaults, as
 * drizzle does.
 */
function placeholders(values: Record<string, unknown>): {
  shape: string;
  params: Record<string, unknown>;
  columns: () => Record<string, unknown>;
} {
  const params: Record<string, unknown> = {};
  const nulls: string[] = [];
  let shape = '';
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (value === null) nulls.push(key);
    else params[key] = value;
    shape += value === null ? `${key}=null,` : `${key},`;
  }
  const columns = () => ({
    ...Object.fromEntries(Object.keys(params).map((key) => [key, sql.placeholder(key)])),
    ...Object.fromEntries(nulls.map((key) => [key, sql`null`])),
  });
  return { shape, params, columns };
}
