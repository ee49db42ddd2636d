import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CancelledFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RENDER_PROGRESS_SIGNAL } from '@gptmarket/contracts';
import { makeKey, S3Storage } from '@gptmarket/storage';
import { startS3, startTemporal, type S3Server } from '@gptmarket/testkit';
import { loadMediaWorkerEnv } from '../src/env.js';
import { createMediaWorker } from '../src/worker.js';
import { ffmpegPids, makeClip, tempDir } from './helpers.js';

/** The real media worker (createMediaWorker, env-configured) on a real Temporal server, driven by a test workflow. */
let temporal: Awaited<ReturnType<typeof startTemporal>>;
let s3: S3Server;
let mediaWorker: Worker;
let workflowWorker: Worker;
let running: Promise<unknown[]>;
let tempRoot: string;
let clipUrl: string;
let slowUrl: string;
const MEDIA_QUEUE = `media-test-${process.pid}`;
const WF_QUEUE = `media-wf-${process.pid}`;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  [temporal, s3] = await Promise.all([startTemporal(), startS3('media-worker')]);
  const dir = tempDir('mw-worker-');
  tempRoot = tempDir('mw-worker-tmp-');
  const env = loadMediaWorkerEnv({
    TEMPORAL_ADDRESS: temporal.address,
    MEDIA_TASK_QUEUE: MEDIA_QUEUE,
    MEDIA_TEMP_DIR: tempRoot,
    S3_BUCKET: s3.bucket,
    S3_ACCESS_KEY: s3.accessKeyId,
    S3_SECRET_KEY: s3.secretAccessKey,
    S3_ENDPOINT_URL: s3.endpoint,
    LOG_LEVEL: 'error',
  });
  ({ worker: mediaWorker } = await createMediaWorker(env, temporal.nativeConnection));
  workflowWorker = await Worker.create({
    connection: temporal.nativeConnection,
    taskQueue: WF_QUEUE,
    workflowsPath: fileURLToPath(new URL('./workflows/render.ts', import.meta.url)),
  });
  running = Promise.all([mediaWorker.run(), workflowWorker.run()]);
  const storage = new S3Storage({
    kind: 's3',
    bucket: s3.bucket,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    endpoint: s3.endpoint,
    presignSeconds: 600,
  });
  clipUrl = (await storage.put(makeKey('inputs', 'mp4'), readFileSync(makeClip(join(dir, 'clip.mp4'))), { contentType: 'video/mp4' })).url;
  slowUrl = (
    await storage.put(makeKey('inputs', 'mp4'), readFileSync(makeClip(join(dir, 'slow.mp4'), { seconds: 8, audio: false })), {
      contentType: 'video/mp4',
    })
  ).url;
}, 120_000);

afterAll(async () => {
  mediaWorker?.shutdown();
  workflowWorker?.shutdown();
  await running?.catch(() => undefined);
  await temporal?.teardown();
  await s3?.stop();
});

describe('media worker on a real Temporal server', () => {
  it('renders a plan', async () => {
    const result = await temporal.client.workflow.execute('renderOnce', {
      taskQueue: WF_QUEUE,
      workflowId: `render-ok-${Date.now()}`,
      args: [{ input_url: clipUrl, speed: 0.7, caption: { text: 'through the worker' }, output: { folder: 'ruby/videos' } }, MEDIA_QUEUE],
    });
    expect(result).toMatchObject({ content_type: 'video/mp4', width: 320, height: 568 });
    expect((await fetch(result.url)).status).toBe(200);
    expect(readdirSync(tempRoot)).toEqual([]);
  }, 60_000);

  it('signals the calling workflow as the encode passes the marks the plan asks for, before the result', async () => {
    const { result, signals } = await temporal.client.workflow.execute('renderRecordingProgress', {
      taskQueue: WF_QUEUE,
      workflowId: `render-progress-${Date.now()}`,
      args: [
        { input_url: slowUrl, speed: 0.7, signal_progress_at: [50, 20], output: { folder: 'ruby/videos' } },
        MEDIA_QUEUE,
        RENDER_PROGRESS_SIGNAL,
      ],
    });
    expect(result.content_type).toBe('video/mp4');
    // One signal per mark passed (a report may pass both at once), each carrying how far the encode was.
    expect(signals.length).toBeGreaterThanOrEqual(1);
    expect(signals.length).toBeLessThanOrEqual(2);
    expect(signals.at(-1)).toBeGreaterThanOrEqual(50);
    expect(signals).toEqual([...signals].sort((a, b) => a - b));
    expect(signals[0]).toBeGreaterThanOrEqual(20);
    // Without marks, nothing is signalled.
    const quiet = await temporal.client.workflow.execute('renderRecordingProgress', {
      taskQueue: WF_QUEUE,
      workflowId: `render-quiet-${Date.now()}`,
      args: [{ input_url: clipUrl, output: { folder: 'ruby/videos' } }, MEDIA_QUEUE, RENDER_PROGRESS_SIGNAL],
    });
    expect(quiet.signals).toEqual([]);
  }, 60_000);

  it('cancelling the workflow kills ffmpeg and removes the temp files', async () => {
    const handle = await temporal.client.workflow.start('renderOnce', {
      taskQueue: WF_QUEUE,
      workflowId: `render-cancel-${Date.now()}`,
      args: [
        { input_url: slowUrl, caption: { text: 'busy' }, output: { folder: 'x', width: 1080, height: 1920, fps: 60, preset: 'slow' } },
        MEDIA_QUEUE,
      ],
    });
    const deadline = Date.now() + 30_000;
    while (ffmpegPids(tempRoot).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(ffmpegPids(tempRoot)).toHaveLength(1);
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(ffmpegPids(tempRoot)).toEqual([]);
    expect(readdirSync(tempRoot)).toEqual([]);
  }, 60_000);
});
