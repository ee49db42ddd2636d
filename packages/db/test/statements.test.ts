import { describe, expect, it } from 'vitest';
import { and, eq, sql } from 'drizzle-orm';
import { generationStatements, generations, openDatabase, type DatabaseHandle, type NewGenerationRow } from '../src/index.js';
import { throwawayPostgres } from './postgres.js';

const cluster = throwawayPostgres();

const record = (id: string, extra: Partial<NewGenerationRow> = {}): NewGenerationRow => ({
  id,
  type: 'ruby',
  workflowType: 'RubyWorkflow',
  workflowId: `wf-${id}`,
  status: 'pending',
  input: { emotion: 'shocked', tags: ['a', 'b'] },
  warnings: ['clipped'],
  costMicros: 1_500,
  webhookUrl: null,
  apiKeyId: null,
  ...extra,
});

/** What drizzle's own builder stores, without the fields that differ between two rows by design. */
const comparable = (row: Record<string, unknown> | undefined) => {
  const { id: _id, workflowId: _w, createdAt: _c, updatedAt: _u, completedAt, ...rest } = row ?? {};
  return { ...rest, completed: completedAt instanceof Date };
};

async function sameAsTheBuilder(handle: DatabaseHandle) {
  const { db } = handle;
  const statements = generationStatements(db);
  expect(generationStatements(db)).toBe(statements);

  // The insert: the same row as drizzle's builder stores, defaults filled in, nulls as SQL NULL.
  const [built] = await db.insert(generations).values(record('gen_built')).returning();
  const made = await statements.insert(record('gen_made'));
  expect(comparable(made)).toEqual(comparable(built));
  expect(made.revision).toBe(0);
  expect(made.createdAt).toBeInstanceOf(Date);
  // Another set of columns makes another statement; both keep working.
  const keyed = await statements.insert(record('gen_keyed', { apiKeyId: 'key_1', metadata: { order: 7 } }));
  expect(keyed).toMatchObject({ apiKeyId: 'key_1', metadata: { order: 7 }, webhookUrl: null });
  expect((await statements.insert(record('gen_again'))).id).toBe('gen_again');

  // The update: over the revision it names only.
  const completedAt = new Date('2026-12-01T10:00:00.123Z');
  const change = {
    status: 'completed' as const,
    output: { final_video_url: 'https://cdn.example/v.mp4', clips: [] },
    currentStep: null,
    error: null,
    completedAt,
    updatedAt: new Date(),
    revision: 1,
  };
  const [builtNext] = await db
    .update(generations)
    .set(change)
    .where(and(eq(generations.id, 'gen_built'), eq(generations.revision, 0)))
    .returning();
  const next = await statements.update('gen_made', 0, change);
  expect(comparable(next)).toEqual(comparable(builtNext));
  expect(next?.completedAt?.toISOString()).toBe(completedAt.toISOString());
  expect(await statements.update('gen_made', 0, { status: 'failed', revision: 1 })).toBeUndefined();
  expect(await statements.update('gen_missing', 0, { status: 'failed', revision: 1 })).toBeUndefined();

  // A null is SQL NULL, never a JSON null (which a placeholder's jsonb encoder would write).
  const nulls = await db.execute(sql`select error is null as error, current_step is null as step from generations where id = 'gen_made'`);
  const [flags] = ((nulls as { rows?: unknown[] }).rows ?? nulls) as Array<{ error: boolean; step: boolean }>;
  expect(flags).toEqual({ error: true, step: true });
  // A duplicate is refused as the builder's insert is.
  await expect(statements.insert(record('gen_made'))).rejects.toThrow();
}

describe('generation statements', () => {
  it('insert and update records as drizzle builds them, on PostgreSQL', async () => {
    const handle = await openDatabase({ url: await cluster.createDatabase('db_statements') });
    try {
      await sameAsTheBuilder(handle);
    } finally {
      await handle.close();
    }
  });

  it('insert and update records as drizzle builds them, on PGlite', async () => {
    const handle = await openDatabase({});
    try {
      await sameAsTheBuilder(handle);
    } finally {
      await handle.close();
    }
  });
});
