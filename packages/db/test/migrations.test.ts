import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { generations, openDatabase, type DatabaseHandle } from '../src/index.js';
import { throwawayPostgres } from './postgres.js';

const cluster = throwawayPostgres();

async function roundTrip(handle: DatabaseHandle) {
  const { db } = handle;
  await handle.ping();
  await db.insert(generations).values({
    id: 'gen_abcdefghij',
    type: 'ruby',
    workflowType: 'RubyWorkflow',
    workflowId: 'ruby-1',
    status: 'pending',
    input: { emotion: 'shocked', text_overlay: "it's 100% real ✨" },
  });
  const [row] = await db.select().from(generations).where(eq(generations.id, 'gen_abcdefghij'));
  expect(row?.input).toEqual({ emotion: 'shocked', text_overlay: "it's 100% real ✨" });
  expect(row?.warnings).toEqual([]);
  expect(row?.metadata).toEqual({});
  expect(row?.createdAt).toBeInstanceOf(Date);
  // workflow ids are unique: a second row for the same workflow is refused
  await expect(
    db
      .insert(generations)
      .values({ id: 'gen_bbbbbbbbbb', type: 'ruby', workflowType: 'RubyWorkflow', workflowId: 'ruby-1', status: 'pending', input: {} }),
  ).rejects.toThrow();
}

describe('migrations', () => {
  it('apply to a real PostgreSQL and the schema round-trips JSON and timestamps', async () => {
    const url = await cluster.createDatabase('db_migrations');
    const handle = await openDatabase({ url });
    try {
      await roundTrip(handle);
      // applying again is a no-op
      await handle.close();
      const again = await openDatabase({ url });
      await again.close();
    } finally {
      await handle.close().catch(() => {});
    }
  }, 60_000);

  it('apply to embedded PGlite the same way', async () => {
    const handle = await openDatabase();
    try {
      expect(handle.kind).toBe('pglite');
      await roundTrip(handle);
    } finally {
      await handle.close();
    }
  }, 60_000);

  it('reports an unreachable PostgreSQL as an error instead of hanging', async () => {
    await expect(openDatabase({ url: 'postgres://postgres@127.0.0.1:1/none' })).rejects.toThrow();
  }, 30_000);
});
