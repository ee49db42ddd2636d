/**
 * Paid jobs against a REAL Temporal server and a fake Replicate (the official SDK pointed at it):
 * a worker killed while polling resumes the same prediction after restart, a cancel reaches the provider,
 * a failed prediction is a non-retryable ProviderError, invalid params never reach the provider.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { WorkflowFailedError, ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/client';
import { LocalStorage } from '@gptmarket/storage';
import { encodePng, renderPortrait } from '@gptmarket/offline';
import { createProviderLimiter, createReplicate } from '@gptmarket/providers';
import { startTemporal, waitFor } from '@gptmarket/testkit';
import { createGenerationActivities } from '../src/activities/index.js';
import { workflowBundlerOptions } from '../src/workflow-bundler.js';
import { FAKE_REPLICATE_KEY, startFakeReplicate, type FakeReplicate } from '../../../packages/providers/test/fakes/replicate.js';

let env: Awaited<ReturnType<typeof startTemporal>>;
let fake: FakeReplicate;
let bundle: WorkflowBundleWithSourceMap;
let dir: string;
let storage: LocalStorage;

beforeAll(async () => {
  [env, fake, bundle, dir] = await Promise.all([
    startTemporal(),
    startFakeReplicate({ pollsToFinish: 1_000_000 }),
    bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./paid/workflows.ts', import.meta.url)),
      ...workflowBundlerOptions(),
    }),
    mkdtemp(join(tmpdir(), 'paid-jobs-')),
  ]);
  storage = new LocalStorage({ dir, publicBaseUrl: 'http://media.test/media' });
}, 120_000);

afterAll(async () => {
  await fake?.close();
  await env?.teardown();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let queueN = 0;
async function makeWorker(taskQueue: string, concurrency = 4) {
  const replicate = createReplicate(
    { REPLICATE_API_KEY: FAKE_REPLICATE_KEY, REPLICATE_BASE_URL: fake.baseUrl },
    { limiter: createProviderLimiter('replicate', concurrency) },
  );
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: createGenerationActivities({
      storage,
      secrets: { enabled: false, secrets: [] },
      providers: { replicate, downloadPolicy: { allowHosts: [`127.0.0.1:${fake.port}`] }, pollMs: 100, maxOutputBytes: 50 * 1024 * 1024 },
    }),
    shutdownGraceTime: '300ms',
  });
  return { worker, running: worker.run() };
}

const posts = () => fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/predictions'));
const pollsOf = (id: string) => fake.requests.filter((r) => r.method === 'GET' && r.path === `/v1/predictions/${id}`).length;

describe('paid jobs on a real Temporal server', () => {
  it('a worker killed while polling: the next worker resumes the same prediction (one create)', async () => {
    const taskQueue = `paid-${++queueN}`;
    const before = posts().length;
    fake.script.pollsToFinish = 1_000_000;
    const first = await makeWorker(taskQueue);
    const handle = await env.client.workflow.start('PaidVideoWorkflow', {
      taskQueue,
      workflowId: `paid-resume-${Date.now()}`,
      args: [
        {
          model: 'kling-v2.6',
          params: {
            prompt: 'a shocked face',
            duration: 5,
            aspect_ratio: '9:16',
            generate_audio: false,
            image: 'https://cdn.example.com/face.png',
          },
          folder: 'ruby/raw',
        },
      ],
    });
    // The prediction exists and is being polled: the id is in the heartbeat details.
    const id = await waitFor(
      'the prediction to be polled',
      async () => {
        const p = [...fake.predictions.values()].at(-1);
        return posts().length === before + 1 && p && pollsOf(p.id) >= 2 ? p.id : undefined;
      },
      { timeoutMs: 20_000 },
    );
    first.worker.shutdown();
    await first.running;
    const pollsAtKill = pollsOf(id);

    fake.script.pollsToFinish = fake.predictions.get(id)!.polls + 2;
    const second = await makeWorker(taskQueue);
    try {
      const result = await handle.result();
      expect(posts().length).toBe(before + 1);
      expect(pollsOf(id)).toBeGreaterThan(pollsAtKill);
      expect(fake.cancels()).toEqual([]);
      expect(fake.predictions.get(id)!.input).toEqual({
        prompt: 'a shocked face',
        start_image: 'https://cdn.example.com/face.png',
        aspect_ratio: '9:16',
        duration: 5,
        generate_audio: false,
      });
      expect(result.provider).toBe('replicate');
      const history = await handle.fetchHistory();
      const attempts = history.events
        ?.filter((e) => e.activityTaskStartedEventAttributes)
        .map((e) => e.activityTaskStartedEventAttributes!.attempt);
      expect(attempts?.at(-1)).toBeGreaterThanOrEqual(2);
      expect(result.url.startsWith('http://media.test/media/ruby/raw/')).toBe(true);
      expect(result.content_type).toBe('video/mp4');
      const bytes = await readFile(join(dir, result.key));
      expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
      expect(bytes.length).toBe(result.size_bytes);
    } finally {
      second.worker.shutdown();
      await second.running;
    }
  }, 90_000);

  it('an image of our (local) storage is sent inline; the output is re-hosted into our storage', async () => {
    const taskQueue = `paid-${++queueN}`;
    fake.script.pollsToFinish = 1;
    const png = encodePng(renderPortrait({ width: 32, height: 48, seed: 'ref' }));
    const ref = await storage.put('refs/2026/11/22/ref.png', png, { contentType: 'image/png', contentLength: png.length });
    const w = await makeWorker(taskQueue);
    try {
      const result = await env.client.workflow.execute('PaidImageWorkflow', {
        taskQueue,
        workflowId: `paid-inline-${Date.now()}`,
        args: [
          {
            model: 'nano-banana',
            params: { prompt: 'same person, smiling', aspect_ratio: '9:16', image_input: [ref.url] },
            folder: 'ruby/faces',
          },
        ],
      });
      const p = [...fake.predictions.values()].at(-1)!;
      expect(p.model).toBe('google/nano-banana-pro');
      expect(p.input).toEqual({
        prompt: 'same person, smiling',
        image_input: [`data:image/png;base64,${png.toString('base64')}`],
        aspect_ratio: 'match_input_image',
        resolution: '2K',
        output_format: 'jpg',
        safety_filter_level: 'block_only_high',
      });
      expect(result).toMatchObject({ provider: 'replicate', model: 'nano-banana', content_type: 'image/png' });
      expect(result.url.startsWith('http://media.test/media/ruby/faces/')).toBe(true);
      expect((await readFile(join(dir, result.key))).subarray(1, 4).toString('latin1')).toBe('PNG');
    } finally {
      w.worker.shutdown();
      await w.running;
    }
  }, 60_000);

  it('a canceled workflow cancels the prediction at the provider', async () => {
    const taskQueue = `paid-${++queueN}`;
    fake.script.pollsToFinish = 1_000_000;
    const w = await makeWorker(taskQueue);
    try {
      const handle = await env.client.workflow.start('PaidImageWorkflow', {
        taskQueue,
        workflowId: `paid-cancel-${Date.now()}`,
        args: [{ model: 'nano-banana', params: { prompt: 'a face', aspect_ratio: '9:16' }, folder: 'ruby/faces' }],
      });
      const id = await waitFor(
        'polling',
        async () => {
          const p = [...fake.predictions.values()].at(-1);
          return p && p.model === 'google/nano-banana-pro' && (p.status === 'starting' || p.status === 'processing') && pollsOf(p.id) >= 1
            ? p.id
            : undefined;
        },
        { timeoutMs: 20_000 },
      );
      await handle.cancel();
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect(fake.cancels()).toContain(id);
      expect(fake.predictions.get(id)!.status).toBe('canceled');
    } finally {
      w.worker.shutdown();
      await w.running;
    }
  }, 60_000);

  it('a failed prediction fails the workflow with a non-retryable ProviderError; no second create', async () => {
    const taskQueue = `paid-${++queueN}`;
    fake.script.pollsToFinish = 2;
    fake.script.outcome = 'failed';
    const before = posts().length;
    const w = await makeWorker(taskQueue);
    try {
      const handle = await env.client.workflow.start('PaidVideoWorkflow', {
        taskQueue,
        workflowId: `paid-failed-${Date.now()}`,
        args: [{ model: 'seedance-1.5-pro', params: { prompt: 'p', duration: 5 }, folder: 'ruby/raw' }],
      });
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const act = (err as WorkflowFailedError).cause as ActivityFailure;
      expect(act).toBeInstanceOf(ActivityFailure);
      const app = act.cause as ApplicationFailure;
      expect(app.type).toBe('ProviderError');
      expect(app.nonRetryable).toBe(true);
      expect(app.message).toContain('seedance-1.5-pro');
      expect(app.message).toContain('NSFW content detected');
      expect(posts().length).toBe(before + 1);
      const desc = await handle.fetchHistory();
      const attempts = desc.events
        ?.filter((e) => e.activityTaskStartedEventAttributes)
        .map((e) => e.activityTaskStartedEventAttributes!.attempt);
      expect(attempts).toEqual([1]);
    } finally {
      fake.script.outcome = 'succeeded';
      w.worker.shutdown();
      await w.running;
    }
  }, 60_000);

  it('a job queued behind the Replicate gate keeps heartbeating (no timeout, no retry, no extra create)', async () => {
    const taskQueue = `paid-${++queueN}`;
    fake.script.pollsToFinish = 60; // ~6 s per prediction at 100 ms polls, longer than the 4 s heartbeat timeout
    const before = posts().length;
    const w = await makeWorker(taskQueue, 1);
    try {
      const handles = await Promise.all(
        [1, 2].map((i) =>
          env.client.workflow.start('PaidImageWorkflow', {
            taskQueue,
            workflowId: `paid-queued-${i}-${Date.now()}`,
            args: [{ model: 'nano-banana', params: { prompt: `queued ${i}` }, folder: 'q' }],
          }),
        ),
      );
      const results = await Promise.all(handles.map((h) => h.result()));
      expect(results.map((r) => r.provider)).toEqual(['replicate', 'replicate']);
      expect(posts().length).toBe(before + 2);
      for (const h of handles) {
        const history = await h.fetchHistory();
        const attempts = history.events
          ?.filter((e) => e.activityTaskStartedEventAttributes)
          .map((e) => e.activityTaskStartedEventAttributes!.attempt);
        expect(attempts).toEqual([1]);
      }
    } finally {
      fake.script.pollsToFinish = 1;
      w.worker.shutdown();
      await w.running;
    }
  }, 60_000);

  it('the registry runs inside the workflow sandbox (a workflow can validate params before paying)', async () => {
    const taskQueue = `paid-${++queueN}`;
    const w = await makeWorker(taskQueue);
    try {
      const ok = await env.client.workflow.execute('ValidateModelWorkflow', {
        taskQueue,
        workflowId: `validate-ok-${Date.now()}`,
        args: ['hidream-fast', { prompt: 'p', aspect_ratio: '3:4' }, 'image'],
      });
      expect(ok).toEqual({
        ok: true,
        prediction: { model: 'prunaai/hidream-l1-fast', input: expect.objectContaining({ resolution: '880 × 1168 (Portrait)' }) },
      });
      const bad = await env.client.workflow.execute('ValidateModelWorkflow', {
        taskQueue,
        workflowId: `validate-bad-${Date.now()}`,
        args: ['seedance-1.5-pro', { prompt: 'p', fps: 30 }, 'video'],
      });
      expect(bad).toEqual({
        ok: false,
        name: 'ModelInputError',
        error: 'seedance-1.5-pro: fps: must be 24 (the only frame rate the model supports)',
      });
    } finally {
      w.worker.shutdown();
      await w.running;
    }
  }, 60_000);

  it('invalid params are rejected before any request to the provider', async () => {
    const taskQueue = `paid-${++queueN}`;
    const before = fake.requests.length;
    const w = await makeWorker(taskQueue);
    try {
      for (const [wf, model, params, re] of [
        ['PaidVideoWorkflow', 'kling-v2.6', { prompt: 'p', duration: 7 }, /duration: must be 5 or 10/],
        ['PaidVideoWorkflow', 'nano-banana', { prompt: 'p' }, /image model and cannot be used for video/],
        ['PaidImageWorkflow', 'hidream-fast', { prompt: 'p', steps: 50, output_quality: 0 }, /output_quality/],
      ] as const) {
        const err = await env.client.workflow
          .execute(wf, { taskQueue, workflowId: `paid-invalid-${Date.now()}-${model}`, args: [{ model, params, folder: 'x' }] })
          .catch((e: unknown) => e);
        const app = ((err as WorkflowFailedError).cause as ActivityFailure).cause as ApplicationFailure;
        expect(app.type).toBe('InvalidInputError');
        expect(app.message).toMatch(re);
      }
      expect(fake.requests.length).toBe(before);
    } finally {
      w.worker.shutdown();
      await w.running;
    }
  }, 60_000);
});
