/**
 * A media step needs a media worker on the queue the generation worker names (MEDIA_TASK_QUEUE). With nobody
 * polling it, the step says it is waiting for a media worker and fails clearly after the (here shortened) bound,
 * instead of waiting forever; a media worker that turns up during the wait takes the step over.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES, QUERY_GET_CURRENT_STEP, RUBY_STEPS, RUBY_WORKFLOW, type RubyOutput, type StepProgress } from '@gptmarket/contracts';
import { createMediaActivities } from '@gptmarket/media-worker';
import { WAITING_FOR_MEDIA_WORKER } from '../src/workflows/run.js';
import { startHarness, type Harness } from './harness.js';

const WAIT_SECONDS = 6;
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 180_000);
afterAll(async () => h?.stop());

/** Starts a Ruby run with a caption (one media step) and records every distinct current step, message included. */
function startRuby(taskQueue: string) {
  const seen: { at: number; step: StepProgress }[] = [];
  const input = { emotion: 'shocked', slowed_video: false, text_overlay: 'anyone there?' };
  const started = h.client.start(RUBY_WORKFLOW, { taskQueue, workflowId: `media-wait-${randomUUID()}`, args: [input] });
  const record = async (hd: Awaited<typeof started>) => {
    const step = await hd.query<StepProgress | null>(QUERY_GET_CURRENT_STEP).catch(() => null);
    const last = seen[seen.length - 1]?.step;
    if (step && (!last || last.step_id !== step.step_id || last.status !== step.status || last.message !== step.message))
      seen.push({ at: Date.now(), step });
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
  return { seen, outcome };
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
    const { seen, outcome } = startRuby(taskQueue);
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

    const textSteps = seen.filter((s) => s.step.step_id === RUBY_STEPS.text.id);
    expect(textSteps.map((s) => [s.step.status, s.step.message])).toEqual([
      ['running', `${RUBY_STEPS.text.name}...`],
      ['running', WAITING_FOR_MEDIA_WORKER],
      ['failed', (cause as ApplicationFailure).message],
    ]);
    // Bounded: not before the wait, and not long after it.
    const waited = out.at - textSteps[0]!.at;
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
