/**
 * Histories recorded by the previous release replay with today's workflow code (Temporal's determinism check).
 * `fixtures/histories/*.json` are RubyWorkflow runs recorded (`fetchHistory()`) when the model params were checked by
 * the `validateModelRequests` local activity: their histories hold its marker, which today's code (the check runs in
 * workflow code) no longer schedules. One completed with a warning, one failed on an invalid param.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { defaultPayloadConverter } from '@temporalio/common';
import { COMPLETE_STEP, PROGRESS_MEMO_KEY, RUBY_WORKFLOW, WorkflowProgressMemo, type RubyOutput } from '@gptmarket/contracts';
import { runWorkflow, startHarness, workflowBundle, type Harness } from './harness.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(resolve(import.meta.dirname, 'fixtures/histories', `${name}.json`), 'utf8')) as {
    workflowId: string;
    history: unknown;
  };
const markers = (history: unknown) =>
  (
    history as {
      events: { eventType: string; markerRecordedEventAttributes?: { details?: { data?: { payloads?: { data: string }[] } } } }[];
    }
  ).events
    .filter((e) => e.eventType === 'EVENT_TYPE_MARKER_RECORDED')
    .map((e) => Buffer.from(e.markerRecordedEventAttributes!.details!.data!.payloads![0]!.data, 'base64').toString());

describe('replay of histories from before the model check moved into workflow code', () => {
  it.each(['ruby-warnings', 'ruby-invalid-params'])(
    '%s replays without a nondeterminism error',
    async (name) => {
      const { workflowId, history } = fixture(name);
      // The old local activity is in the history: the fixture is what it claims to be.
      expect(markers(history).some((m) => m.includes('"activity_type":"validateModelRequests"'))).toBe(true);
      await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId)).resolves.toBeUndefined();
    },
    120_000,
  );
});

describe('replay while a workflow runs', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    // No workflow cache: every workflow task and every query replays the history from its start, as after an
    // eviction on a busy worker. A patch or local-activity marker met out of order fails as nondeterministic here.
    await h.addGenerationWorker('replay-every-activation', {}, 300, { noCache: true });
  }, 180_000);
  afterAll(async () => h?.stop());

  it('a Ruby run (slow motion and caption) answers every query and reports every Python step', async () => {
    const run = await runWorkflow<RubyOutput>(
      h,
      RUBY_WORKFLOW,
      { text_overlay: 'replayed', image_model_params: { speed_mode: 'x' } },
      { taskQueue: 'replay-every-activation', timeoutMs: 150_000 },
    );
    expect(run.error).toBeUndefined();
    expect(run.result!.warnings).toEqual([expect.stringContaining('image_model_params.speed_mode was ignored')]);
    expect(run.queryFailures).toEqual([]);
    // Every step, in order, as the workflow pushed them in its progress memo (what the gateway follows): polling the
    // queries can miss a step of a few milliseconds (the manifest upload), the history cannot.
    const history = await h.client.getHandle(run.workflowId).fetchHistory();
    const pushed = (history.events ?? []).flatMap((e) => {
      const payload = e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.[PROGRESS_MEMO_KEY];
      return payload ? [WorkflowProgressMemo.parse(defaultPayloadConverter.fromPayload(payload))] : [];
    });
    const stepsInOrder = pushed.map((p) => p.current_step?.step_id).filter((id, i, all) => id && id !== all[i - 1]);
    expect(stepsInOrder).toEqual(['prompts', 'face', 'video', 'slowmo', 'text', 'upload', 'complete']);
    expect(pushed.at(-1)).toEqual({ status: 'completed', current_step: COMPLETE_STEP });
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, run.workflowId)).resolves.toBeUndefined();
  }, 180_000);
});
