/**
 * An account-wide provider rate holds for every worker replica together: two generation worker processes (src/main.ts,
 * as the image runs it) on a real Temporal dev server, both with PROVIDER_RATE_REPLICATE, make Replicate creates (on
 * the fake, which records when each arrived) no faster together than the rate allows, because the image and video
 * activities run on a task queue of their own whose dispatch rate the server enforces.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflowCode } from '@temporalio/worker';
import { RUBY_WORKFLOW } from '@gptmarket/contracts';
import { spawnService, startTemporal, waitFor, type ServiceProcess } from '@gptmarket/testkit';
import { replicateTaskQueue, workflowsPath } from '../src/worker.js';
import { workflowBundlerOptions } from '../src/workflow-bundler.js';
import { FAKE_REPLICATE_KEY, startFakeReplicate, type FakeReplicate } from '../../../packages/providers/test/fakes/replicate.js';

const repo = resolve(import.meta.dirname, '../../..');
const entry = ['--import', 'tsx', '--conditions=@gptmarket/source', join(repo, 'apps/generation-worker/src/main.ts')];
const PER_MINUTE = 180; // 3 creates a second, for both replicas together
const RUNS = 12; // two creates each: the face image, then the clip

let temporal: Awaited<ReturnType<typeof startTemporal>>;
let fake: FakeReplicate;
let dir: string;
const workers: ServiceProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'provider-rate-'));
  let bundle: { code: string };
  [temporal, fake, bundle] = await Promise.all([
    startTemporal(),
    startFakeReplicate({ pollsToFinish: 1 }),
    bundleWorkflowCode({
      workflowsPath,
      ...workflowBundlerOptions(),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    }),
  ]);
  // One prebuilt bundle for both processes (as the production image has), so neither spends its start in webpack.
  writeFileSync(join(dir, 'workflows.js'), bundle.code);
}, 180_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop(5_000)));
  await fake?.close();
  await temporal?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('PROVIDER_RATE_REPLICATE with two worker replicas', () => {
  it('caps the creates of both replicas together, each replica taking its share', async () => {
    const taskQueue = `rate-${process.pid}`;
    for (const n of [1, 2]) {
      workers.push(
        spawnService(
          `generation-worker-${n}`,
          process.execPath,
          entry,
          {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            TEMPORAL_ADDRESS: temporal.address,
            TEMPORAL_TASK_QUEUE: taskQueue,
            MEDIA_TASK_QUEUE: `${taskQueue}-media-nobody`, // the render waits: only the creates matter here
            WORKFLOW_SECRET_ENABLED: 'false',
            WORKFLOW_BUNDLE_PATH: join(dir, 'workflows.js'),
            LOCAL_STORAGE_DIR: join(dir, 'media'),
            REPLICATE_API_KEY: FAKE_REPLICATE_KEY,
            REPLICATE_BASE_URL: fake.baseUrl,
            REPLICATE_POLL_MS: '50',
            PROVIDER_DOWNLOAD_ALLOWED_HOSTS: `127.0.0.1:${fake.port}`,
            PROVIDER_RATE_REPLICATE: String(PER_MINUTE),
            LOG_LEVEL: 'info',
          },
          repo,
        ),
      );
    }
    await Promise.all(workers.map((w) => w.waitForOutput(/generation-worker ready/, 120_000)));
    // Both replicas poll the Replicate queue before any work is there, so either may take each task.
    await waitFor(
      'both replicas polling the Replicate queue',
      async () => {
        const res = await temporal.client.connection.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: replicateTaskQueue(taskQueue), kind: 1 },
          taskQueueType: 2, // activity
        });
        return new Set((res.pollers ?? []).map((p) => p.identity)).size === 2 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );

    const handles = await Promise.all(
      Array.from({ length: RUNS }, (_, i) =>
        temporal.client.workflow.start(RUBY_WORKFLOW, {
          taskQueue,
          workflowId: `rate-${process.pid}-${i}`,
          args: [{ emotion: 'happy', text_overlay: `run ${i}` }],
        }),
      ),
    );
    const creates = () => fake.requests.filter((r) => r.method === 'POST' && /\/models\/.+\/predictions$/.test(r.path));
    // At worst a quarter of the rate (the waiting tasks in one of the queue's partitions): about 32 s, more under load.
    await waitFor('every create', async () => (creates().length >= 2 * RUNS ? true : undefined), {
      timeoutMs: 150_000,
      intervalMs: 100,
    }).catch((err: Error) => {
      throw new Error(`${err.message}: ${creates().length} of ${2 * RUNS} creates`);
    });
    await Promise.all(handles.map((h) => h.terminate('test over').catch(() => {})));

    const times = creates()
      .map((r) => r.at)
      .sort((a, b) => a - b);
    expect(times).toHaveLength(2 * RUNS); // one create per activity: nothing paid twice
    const shown = `creates at ${times.map((t) => ((t - times[0]!) / 1000).toFixed(2)).join(' ')} s`;
    const spanSeconds = (times.at(-1)! - times[0]!) / 1000;
    const perSecond = PER_MINUTE / 60;
    // The server splits a queue's rate among its partitions (4 by default), each a token bucket of one token: up to
    // one task per partition passes at once, then each partition dispatches at its share of the rate (so tasks
    // arrive in groups). The fake sees a create some time after its dispatch (under load, up to about a second), which
    // can squeeze a window: every window holds at most rate × (window + 1 s) + 4. Unthrottled, the 24 creates arrive
    // within about a second (an excess near 20).
    const burst = 4 + perSecond;
    let worst = { excess: -Infinity, count: 0, seconds: 0 };
    for (let i = 0; i < times.length; i++)
      for (let j = i + 1; j < times.length; j++) {
        const seconds = (times[j]! - times[i]!) / 1000;
        const excess = j - i + 1 - perSecond * seconds;
        if (excess > worst.excess) worst = { excess, count: j - i + 1, seconds };
      }
    expect(worst.excess, `${worst.count} creates within ${worst.seconds} s; ${shown}`).toBeLessThanOrEqual(burst);
    // ... and the run was bound by the rate, not by anything else (unthrottled, 24 creates take well under a second).
    expect(spanSeconds, shown).toBeGreaterThan((2 * RUNS - burst) / perSecond - 1);

    // Each replica took a share of the creates: the limit is the pair's, not each one's.
    const identities = new Set<string>();
    for (const h of handles) {
      for (const e of (await h.fetchHistory()).events ?? []) {
        if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'generateImage')
          expect(e.activityTaskScheduledEventAttributes.taskQueue?.name).toBe(replicateTaskQueue(taskQueue));
        const started = e.activityTaskStartedEventAttributes;
        if (started?.identity) identities.add(started.identity.split(' ')[0]!);
      }
    }
    expect(new Set(workers.map((w) => String(w.child.pid)))).toEqual(new Set([...identities].map((id) => id.split('@')[0]!)));
  }, 360_000);
});
