/**
 * A media step needs a media worker on the queue the generation worker names (MEDIA_TASK_QUEUE). With nobody
 * polling it, the step says it is waiting for a media worker and fails clearly after the (here shortened) bound,
 * instead of waiting forever; a media worker that turns up during the wait takes the step over.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import {
  ERROR_TYPES,
  PROGRESS_MEMO_KEY,
  QUERY_GET_CURRENT_STEP,
  RUBY_STEPS,
  RUBY_WORKFLOW,
  type RubyOutput,
  type StepProgress,
  type WorkflowProgressMemo,
} from '@gptmarket/contracts';
import { createMediaActivities } from '@gptmarket/media-worker';
import { WAITING_FOR_MEDIA_WORKER } from '../src/workflows/run.js';
import { startHarness, type Harness } from './harness.js';

const WAIT_SECONDS = 6;
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 180_000);
afterAll(async () => h?.stop());

/** Whether two states show the same step, status and message. */
const sameStep = (a: StepProgress | undefined, b: StepProgress) =>
  a?.step_id === b.step_id && a.status === b.status && a.message === b.message;

/** Starts a Ruby run with a caption (one media step) and records every distinct current step, message included. */
function startRuby(taskQueue: string) {
  const seen: { at: number; step: StepProgress }[] = [];
  const input = { emotion: 'shocked', slowed_video: false, text_overlay: 'anyone there?' };
  const started = h.client.start(RUBY_WORKFLOW, { taskQueue, workflowId: `media-wait-${randomUUID()}`, args: [input] });
  const record = async (hd: Awaited<typeof started>) => {
    const step = await hd.query<StepProgress | null>(QUERY_GET_CURRENT_STEP).catch(() => null);
    if (step && !sameStep(seen.at(-1)?.step, step)) seen.push({ at: Date.now(), step });
  };
  const outcome = (async () => {
    const hd = await started;
    let done = false;
    const result = hd
      .result()
      .then(
        (value) => ({ result: value as RubyOutput, at: Date.now() }),
        (error: unknown) => ({ error, at: Date.now() }),
      )
      .finally(() => {
        done = true;
      });
    while (!done) {
      await record(hd);
      await new Promise((r) => setTimeout(r, 50));
    }
    await record(hd); // the final state
    return result;
  })();
  return { seen, outcome, handle: started };
}

/**
 * The distinct steps a run pushed (its progress memo, one WorkflowPropertiesModified event per change) in order, each
 * with the time Temporal recorded it, and the time the run closed.
 */
async function pushedSteps(handle: WorkflowHandle): Promise<{ steps: { at: number; step: StepProgress }[]; closedAt: number }> {
  const events = (await handle.fetchHistory()).events ?? [];
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
    Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
  const steps: { at: number; step: StepProgress }[] = [];
  for (const event of events) {
    const payload = event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.[PROGRESS_MEMO_KEY];
    const step = payload ? defaultPayloadConverter.fromPayload<WorkflowProgressMemo>(payload).current_step : null;
    // A change of the run's status alone pushes the same step again.
    if (step && !sameStep(steps.at(-1)?.step, step)) steps.push({ at: ms(event.eventTime), step });
  }
  return { steps, closedAt: ms(events.at(-1)?.eventTime) };
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a media step without a media worker', () => {
  it('says it is waiting for a media worker, then fails with a MediaError after the bound', async () => {
    const taskQueue = `media-wait-gen-${process.pid}`;
    // The harness runs a media worker on the default media queue; this worker names a queue nobody polls.
    await h.addGenerationWorker(taskQueue, {
      settings: { media_task_queue: `nobody-polls-${process.pid}`, media_wait_seconds: WAIT_SECONDS },
    });
    const { seen, outcome, handle } = startRuby(taskQueue);
    const out = await outcome;
    expect(out).toHaveProperty('error');
    const err = (out as { error: unknown }).error;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe(ERROR_TYPES.media);
    expect((cause as ApplicationFailure).message).toBe(
      `No media worker became available within ${WAIT_SECONDS} seconds, so this step could not run. Please try again later.`,
    );

    // Every state the run showed, from its history (each change is pushed there, see `pushedSteps`): sampling the
    // query alone once missed the waiting message under load.
    const { steps, closedAt } = await pushedSteps(await handle);
    const textSteps = steps.filter((s) => s.step.step_id === RUBY_STEPS.text.id);
    expect(textSteps.map((s) => [s.step.status, s.step.message])).toEqual([
      ['running', `${RUBY_STEPS.text.name}...`],
      ['running', WAITING_FOR_MEDIA_WORKER],
      ['failed', (cause as ApplicationFailure).message],
    ]);
    // What a caller sees through the query agrees with it, as far as it sampled.
    const queried = seen.filter((s) => s.step.step_id === RUBY_STEPS.text.id).map((s) => [s.step.status, s.step.message]);
    expect(textSteps.map((s) => [s.step.status, s.step.message])).toEqual(expect.arrayContaining(queried));
    // Bounded: not before the wait, and not long after it (the times Temporal recorded).
    const waited = closedAt - textSteps[0]!.at;
    expect(waited).toBeGreaterThanOrEqual(WAIT_SECONDS * 1000 - 500);
    expect(waited).toBeLessThan(WAIT_SECONDS * 1000 + 10_000);
  }, 120_000);

  it('is taken over by a media worker that starts polling during the wait', async () => {
    const taskQueue = `media-late-gen-${process.pid}`;
    const mediaQueue = `late-media-${process.pid}`;
    await h.addGenerationWorker(taskQueue, { settings: { media_task_queue: mediaQueue, media_wait_seconds: 30 } });
    const { seen, outcome } = startRuby(taskQueue);
    await until('the waiting message', () => seen.find((s) => s.step.message === WAITING_FOR_MEDIA_WORKER), 90_000);
    const media = await Worker.create({
      connection: h.temporal.nativeConnection,
      taskQueue: mediaQueue,
      activities: createMediaActivities({ storage: h.storage, policy: {}, maxInputBytes: 200 * 1024 * 1024 }),
    });
    h.workers.push(media);
    h.running.push(media.run());
    const out = await outcome;
    expect(out, String((out as { error?: unknown }).error)).toHaveProperty('result');
    const result = (out as { result: RubyOutput }).result;
    expect(h.storage.keyFromUrl(result.final_video_url)).toMatch(/^ruby\/videos\//);
  }, 150_000);
});
