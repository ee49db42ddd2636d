import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnService, startTemporal, waitFor, type ServiceProcess } from '@gptmarket/testkit';
import { loadGenerationWorkerEnv } from '../src/env.js';
import { startHealthServer } from '@gptmarket/worker-runtime';
import { createGenerationWorker, generationWorkerHealth } from '../src/worker.js';

/**
 * The health endpoint of the real worker process (src/main.ts, as the image runs it) against a real Temporal
 * server: 200 while the worker polls, then 503 or a refused connection once SIGTERM starts the shutdown.
 */
const repo = resolve(import.meta.dirname, '../../..');
let temporal: Awaited<ReturnType<typeof startTemporal>>;
let worker: ServiceProcess | undefined;
let dataDir: string;

type Probe = { status: number; body: Record<string, unknown> } | { status: 'refused' };
async function probe(port: number): Promise<Probe> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } catch {
    return { status: 'refused' };
  }
}

beforeAll(async () => {
  temporal = await startTemporal();
  dataDir = mkdtempSync(join(tmpdir(), 'gw-health-'));
}, 120_000);

afterAll(async () => {
  await worker?.stop(5_000);
  await temporal?.teardown();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('generation worker health endpoint', () => {
  it('follows the worker state in process: 503 before run, 200 while polling, 503 once shutdown starts', async () => {
    const env = loadGenerationWorkerEnv({
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: `health-inproc-${process.pid}`,
      WORKFLOW_SECRET_KEY: 'health-test-secret-0123456789abcdef',
      LOCAL_STORAGE_DIR: join(dataDir, 'media-inproc'),
      WORKER_SHUTDOWN_GRACE_SECONDS: '1',
      LOG_LEVEL: 'error',
    });
    const { worker: w } = await createGenerationWorker(env, temporal.nativeConnection);
    // WORKER_SHUTDOWN_GRACE_SECONDS reaches the SDK's shutdown grace time.
    expect(w.options.shutdownGraceTimeMs).toBe(1_000);
    const health = await startHealthServer(w, { host: '127.0.0.1', port: 0, rule: generationWorkerHealth });
    try {
      expect(await probe(health.port)).toMatchObject({ status: 503, body: { status: 'unavailable', runState: 'INITIALIZED' } });
      const running = w.run();
      const ok = await waitFor(
        'RUNNING',
        async () => {
          const r = await probe(health.port);
          return r.status === 200 ? r : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      expect(ok).toMatchObject({ body: { runState: 'RUNNING', workflowPollerState: 'POLLING', activityPollerState: 'POLLING' } });
      w.shutdown();
      expect(await probe(health.port)).toMatchObject({ status: 503 });
      await running;
      expect(await probe(health.port)).toMatchObject({ status: 503, body: { runState: 'STOPPED' } });
    } finally {
      await health.close();
    }
  }, 90_000);

  it('answers 200 while the worker polls and stops answering 200 after SIGTERM', async () => {
    const port = await freePort();
    worker = spawnService(
      'generation-worker',
      process.execPath,
      ['--import', 'tsx', '--conditions=@gptmarket/source', join(repo, 'apps/generation-worker/src/main.ts')],
      {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_TASK_QUEUE: `health-${process.pid}`,
        WORKFLOW_SECRET_KEY: 'health-test-secret-0123456789abcdef',
        LOCAL_STORAGE_DIR: join(dataDir, 'media'),
        HEALTH_PORT: String(port),
        WORKER_SHUTDOWN_GRACE_SECONDS: '2',
        LOG_LEVEL: 'warn',
      },
      repo,
    );
    const ready = await waitFor(
      'a healthy worker',
      async () => {
        if (worker!.child.exitCode !== null) throw new Error(`worker exited:\n${worker!.output()}`);
        const r = await probe(port);
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    expect(ready).toMatchObject({
      status: 200,
      body: { status: 'ok', runState: 'RUNNING', workflowPollerState: 'POLLING', activityPollerState: 'POLLING' },
    });
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);

    const child = worker.child;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const after = await waitFor(
      'the endpoint to stop reporting healthy',
      async () => {
        const r = await probe(port);
        return r.status !== 200 ? r : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    expect(after.status === 'refused' || after.status === 503).toBe(true);
    // One SIGTERM is enough: the worker drains (grace 2 s here), closes the endpoint and exits 0.
    expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))])).toBe(0);
    expect(worker.output()).not.toContain('health-test-secret');
    expect((await probe(port)).status).toBe('refused');
  }, 150_000);
});
