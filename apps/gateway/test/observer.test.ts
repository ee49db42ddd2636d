import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { COMPLETE_STEP, PROGRESS_MEMO_KEY, type WorkflowProgressMemo } from '@gptmarket/contracts';
import { generations, openDatabase, type DatabaseHandle, type GenerationRow } from '@gptmarket/db';
import { createLogger } from '@gptmarket/runtime';
import { freePort, startTemporal } from '@gptmarket/testkit';
import { TemporalGateway } from '../src/index.js';
import { unreachableBucket } from './helpers.js';
import { GenerationObserver } from '../src/services/generation-observer.js';
import { GenerationRecords } from '../src/services/generation-records.js';

/**
 * What the tracker writes when one answer of a workflow's history holds several pushed changes: the last state in one
 * statement, the states it overtook handed to this replica's listeners with the revisions they would have had
 * (PGlite; Temporal is not asked). And what the sweep reads of a workflow nobody follows (a Temporal dev server).
 */
let database: DatabaseHandle;
let observer: GenerationObserver;
const changes: GenerationRow[] = [];
const passing: GenerationRow[] = [];
let seq = 0;

beforeAll(async () => {
  database = await openDatabase();
  const storage = unreachableBucket();
  observer = new GenerationObserver({
    db: database.db,
    temporal: new TemporalGateway({ address: `127.0.0.1:${await freePort()}`, namespace: 'default' }),
    records: new GenerationRecords(database.db, storage),
    storage,
    onChange: (row) => changes.push(row),
    onPassing: (row) => passing.push(row),
    log: createLogger('test', 'error'),
  });
}, 60_000);
afterAll(async () => {
  await database?.close();
});

async function running(): Promise<GenerationRow> {
  changes.length = 0;
  passing.length = 0;
  const id = `gen_observe${String(++seq).padStart(8, '0')}`;
  const [row] = await database.db
    .insert(generations)
    .values({ id, type: 'hello_world', workflowType: 'HelloWorldWorkflow', workflowId: `hello-${id}`, status: 'pending', input: {} })
    .returning();
  return row!;
}

const step = (step_id: string, progress_pct: number): WorkflowProgressMemo => ({
  status: 'running',
  current_step: { step_id, step_name: step_id, status: 'running', progress_pct, message: null },
});
/** Another observer writes `row` first: its status, at the next revision. */
const writtenByAnother = (row: GenerationRow, status: GenerationRow['status']) =>
  database.db
    .update(generations)
    .set({ status, revision: row.revision + 1 })
    .where(eq(generations.id, row.id));
const stored = async (id: string) => (await database.db.select().from(generations).where(eq(generations.id, id)))[0]!;

describe('changes pushed in one batch', () => {
  it('writes a step and the completion once; listeners see the step first, with the revision it would have had', async () => {
    const row = await running();
    const completeMemo: WorkflowProgressMemo = { status: 'completed', current_step: { ...COMPLETE_STEP } };
    const saved = await observer.applyPushed(row, [step('greet', 50), completeMemo], { result: { message: 'Hello, you!' } });

    expect(saved.status).toBe('completed');
    expect(saved.revision).toBe(row.revision + 2);
    expect(saved.output).toEqual({ message: 'Hello, you!' });
    expect(await stored(row.id)).toMatchObject({ status: 'completed', revision: row.revision + 2 });
    // the completion step's memo adds nothing next to the completion: one state overtaken, the running step
    expect(passing.map((r) => [r.revision, r.status, r.currentStep?.step_id])).toEqual([[row.revision + 1, 'running', 'greet']]);
    expect(changes.map((r) => [r.revision, r.status])).toEqual([[row.revision + 2, 'completed']]);
  });

  it('writes the last of several steps; repeats of one state count once; a later batch goes on from the new revision', async () => {
    const row = await running();
    const first = await observer.applyPushed(row, [step('prompts', 10), step('prompts', 10), step('face', 40)]);
    expect(first).toMatchObject({ status: 'running', revision: row.revision + 2, currentStep: { step_id: 'face' } });
    expect(passing.map((r) => [r.revision, r.currentStep?.step_id])).toEqual([[row.revision + 1, 'prompts']]);

    passing.length = 0;
    const same = await observer.applyPushed(first, [step('face', 40)]);
    expect(same).toBe(first); // nothing new: nothing written, nobody told
    expect(passing).toEqual([]);

    const next = await observer.applyPushed(first, [step('video', 70)]);
    expect(next).toMatchObject({ revision: first.revision + 1, currentStep: { step_id: 'video' } });
    expect(passing).toEqual([]);
    expect((await stored(row.id)).revision).toBe(first.revision + 1);
  });

  it('does not lose the completion when another observer wrote the record in between: it goes on from that revision', async () => {
    const row = await running();
    // e.g. a replica's SSE listener that looked at the workflow itself (its tracker does not follow it)
    await writtenByAnother(row, 'running');
    const saved = await observer.applyPushed(row, [step('greet', 50)], { result: { message: 'late' } });
    expect(saved).toMatchObject({ status: 'completed', revision: row.revision + 3, output: { message: 'late' } });
    expect(await stored(row.id)).toMatchObject({ status: 'completed', revision: row.revision + 3 });
    expect(passing.map((r) => [r.revision, r.currentStep?.step_id])).toEqual([[row.revision + 2, 'greet']]);
    expect(changes.map((r) => [r.revision, r.status])).toEqual([[row.revision + 3, 'completed']]);
  });

  it('leaves a record another observer has ended as it is', async () => {
    const row = await running();
    await writtenByAnother(row, 'cancelled');
    const saved = await observer.applyPushed(row, [step('greet', 50)], { result: { message: 'too late' } });
    expect(saved).toMatchObject({ status: 'cancelled', revision: row.revision + 1 });
    expect(passing).toEqual([]);
    expect(changes).toEqual([]);
  });
});

describe('a workflow looked at by the sweep (not followed by a long poll)', () => {
  let temporal: Awaited<ReturnType<typeof startTemporal>>;
  let looker: GenerationObserver;
  beforeAll(async () => {
    temporal = await startTemporal();
    const storage = unreachableBucket();
    looker = new GenerationObserver({
      db: database.db,
      temporal: new TemporalGateway({ address: temporal.address, namespace: 'default' }),
      records: new GenerationRecords(database.db, storage),
      storage,
      onChange: (row) => changes.push(row),
      log: createLogger('test', 'error'),
    });
  }, 120_000);
  afterAll(async () => {
    await temporal?.teardown();
  });

  /**
   * `row`'s workflow with the progress memo of step "greet", on a queue no worker polls: a query would go unanswered
   * (the observer gives up on a running one after 5 s; a closed one fails at once), so a step seen can only come from
   * the memo.
   */
  const startUnpolled = (row: GenerationRow) =>
    temporal.client.workflow.start('HelloWorldWorkflow', {
      taskQueue: 'observer-test-nobody-polls',
      workflowId: row.workflowId,
      args: [{ name: 'memo' }],
      memo: { [PROGRESS_MEMO_KEY]: step('greet', 50) },
    });

  it('takes the progress a run pushed from the memo its describe brings, without querying a worker', async () => {
    const row = await running();
    await startUnpolled(row);
    const seen = await looker.refresh(row);
    expect(seen).toMatchObject({ status: 'running', currentStep: { step_id: 'greet', progress_pct: 50 } });
    expect(await stored(row.id)).toMatchObject({ status: 'running', currentStep: { step_id: 'greet' } });
    expect(changes.map((r) => r.currentStep?.step_id)).toEqual(['greet']);
  });

  it('takes the last step of a run that ended from its memo too (a query of a closed run is a replay on a worker)', async () => {
    const row = await running();
    const handle = await startUnpolled(row);
    await handle.terminate('ended from outside');
    const seen = await looker.refresh(row);
    expect(seen).toMatchObject({ status: 'failed', currentStep: { step_id: 'greet' } });
    expect(await stored(row.id)).toMatchObject({ status: 'failed', currentStep: { step_id: 'greet' } });
  });
});
