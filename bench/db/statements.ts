/**
 * Database statements benchmark (not a test), one run: CPU of this process per insert and per update of a generation
 * record, through drizzle's query builder (its SQL built on every call) and through `generationStatements` (built once
 * per set of columns), on PGlite and on a real PostgreSQL, in interleaved rounds. Run with `bash bench/db/run.sh`.
 */
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { loadAverage, median } from '../stats.js';

// Packages resolve from the database package (bench/ is a plain folder, not a workspace package).
const req = createRequire(join(resolve(import.meta.dirname, '../..'), 'packages/db/package.json'));
const { and, eq } = (await import(req.resolve('drizzle-orm'))) as typeof import('drizzle-orm');

const { generations, generationStatements, openDatabase } = await import('../../packages/db/src/index.js');
const { startPostgres } = await import('../../packages/testkit/src/index.js');
type Database = import('../../packages/db/src/index.js').Database;

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const OPS = Number(process.env.BENCH_OPS ?? 1_000);

/** A record as the gateway writes one when it accepts a request. */
const accepted = (id: string) => ({
  id,
  type: 'ruby',
  workflowType: 'RubyWorkflow',
  workflowId: `wf-${id}`,
  status: 'pending' as const,
  input: { emotion: 'shocked', text_overlay: 'when the bench runs', video_duration: 5 },
  warnings: [] as string[],
  cost: { currency: 'USD', total: 0.12, items: [{ kind: 'video', amount: 0.12 }] },
  costMicros: 120_000,
  metadata: { order: 'bench' },
  webhookUrl: null,
  apiKeyId: 'key_bench',
  idempotencyKey: null,
  retryOf: null,
});
/** The change the tracker writes when a record's first step starts (over revision 0). */
const stepped = () => ({
  status: 'running' as const,
  currentStep: { step_id: 'generate_face', step_name: 'Generating face', step_number: 2, total_steps: 6 },
  updatedAt: new Date(),
  revision: 1,
});

/** CPU µs of this process per call of `op` over `OPS` calls (each awaited before the next). */
async function cpuPerCall(op: (i: number) => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < OPS; i++) await op(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / OPS;
}

async function measure(db: Database) {
  const statements = generationStatements(db);
  const figures = {
    builderInsert: [] as number[],
    statementInsert: [] as number[],
    builderUpdate: [] as number[],
    statementUpdate: [] as number[],
  };
  for (let round = -1; round < ROUNDS; round++) {
    // Round -1 warms both sides up (JIT, connections) and is not counted.
    const keep = (k: keyof typeof figures, x: number) => round >= 0 && figures[k].push(x);
    const tag = `r${round + 1}`;
    keep(
      'builderInsert',
      await cpuPerCall((i) =>
        db
          .insert(generations)
          .values(accepted(`b_${tag}_${i}`))
          .returning(),
      ),
    );
    keep('statementInsert', await cpuPerCall((i) => statements.insert(accepted(`s_${tag}_${i}`))));
    keep(
      'builderUpdate',
      await cpuPerCall((i) =>
        db
          .update(generations)
          .set(stepped())
          .where(and(eq(generations.id, `b_${tag}_${i}`), eq(generations.revision, 0)))
          .returning(),
      ),
    );
    keep('statementUpdate', await cpuPerCall((i) => statements.update(`s_${tag}_${i}`, 0, stepped())));
  }
  return figures;
}

console.log(
  `GPTMarket database statements bench — ${new Date().toISOString()}, ${cpus().length} cores, load average ${loadAverage()}; ${ROUNDS} interleaved rounds of ${OPS} calls`,
);
const pg = await startPostgres();
try {
  for (const kind of ['pglite', 'postgres'] as const) {
    const handle = await openDatabase(kind === 'postgres' ? { url: await pg.createDatabase('bench_statements') } : {});
    try {
      const f = await measure(handle.db);
      const line = (what: string, builder: number[], statement: number[]) =>
        console.log(
          `${kind.padEnd(8)} ${what}: builder ${median(builder).toFixed(0)} µs, statement ${median(statement).toFixed(0)} µs of CPU per call; statement ÷ builder ${median(statement.map((s, i) => s / builder[i]!)).toFixed(2)}`,
        );
      line('insert', f.builderInsert, f.statementInsert);
      line('update', f.builderUpdate, f.statementUpdate);
    } finally {
      await handle.close();
    }
  }
} finally {
  await pg.stop();
}
console.log(`load average at the end: ${loadAverage()}`);
