/**
 * The worker process (src/main.ts, as the image runs it) in production: it refuses to start while a capability
 * has no real provider, naming the variables to set, unless ALLOW_OFFLINE_PROVIDERS says otherwise; once started,
 * it reports its providers in the identity it polls Temporal with (what the gateway's /ready reads).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnService, startTemporal, waitFor, type ServiceProcess } from '@gptmarket/testkit';

const repo = resolve(import.meta.dirname, '../../..');
const entry = ['--import', 'tsx', '--conditions=@gptmarket/source', join(repo, 'apps/generation-worker/src/main.ts')];
let temporal: Awaited<ReturnType<typeof startTemporal>>;
let worker: ServiceProcess | undefined;
let dataDir: string;

beforeAll(async () => {
  temporal = await startTemporal();
  dataDir = mkdtempSync(join(tmpdir(), 'gw-startup-'));
}, 120_000);
afterAll(async () => {
  await worker?.stop(5_000);
  await temporal?.teardown();
  rmSync(dataDir, { recursive: true, force: true });
});

const productionEnv = (extra: Record<string, string>) => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  NODE_ENV: 'production',
  TEMPORAL_ADDRESS: temporal.address,
  WORKFLOW_SECRET_KEY: 'startup-test-secret-0123456789abcdef',
  LOCAL_STORAGE_DIR: join(dataDir, 'media'),
  LOG_LEVEL: 'info',
  ...extra,
});
const runToExit = (env: Record<string, string | undefined>) =>
  spawnSync(process.execPath, entry, { env, cwd: repo, encoding: 'utf8', timeout: 60_000 });

describe('a production generation worker', () => {
  it('refuses to start with no provider key, naming every missing variable', () => {
    const res = runToExit(productionEnv({}));
    expect(res.status).toBe(78);
    const out = res.stdout + res.stderr;
    expect(out).toMatch(/refusing to start: no real provider for/);
    for (const variable of [
      'REPLICATE_API_KEY',
      'OPENAI_API_KEY',
      'GEMINI_API_KEY',
      'GPTMARKET_API_KEY',
      'ELEVENLABS_API_KEY',
      'CARTESIA_API_KEY',
      'ASSEMBLYAI_API_KEY',
    ]) {
      expect(out).toContain(variable);
    }
    expect(out).toContain('ALLOW_OFFLINE_PROVIDERS=image_video,prompts,llm,pinterest,speech,transcription');
    expect(out).not.toMatch(/generation-worker ready/);
  }, 90_000);

  it('names only what is missing, never a key', () => {
    const res = runToExit(productionEnv({ REPLICATE_API_KEY: 'r8_startup_value', OPENAI_API_KEY: 'sk-startup-value' }));
    expect(res.status).toBe(78);
    const out = res.stdout + res.stderr;
    expect(out).toContain('no real provider for pinterest (set GPTMARKET_API_KEY), speech (set ELEVENLABS_API_KEY or CARTESIA_API_KEY)');
    expect(out).not.toMatch(/startup_value|startup-value/);
  }, 90_000);

  it('refuses an ALLOW_OFFLINE_PROVIDERS it does not understand', () => {
    const res = runToExit(productionEnv({ ALLOW_OFFLINE_PROVIDERS: 'pinterest,everything' }));
    expect(res.status).toBe(78);
    expect(res.stdout + res.stderr).toMatch(/ALLOW_OFFLINE_PROVIDERS: expected true, false or capability names .*unknown "everything"/);
  }, 90_000);

  it('starts when the offline capabilities are allowed, and reports its providers to Temporal', async () => {
    const taskQueue = `startup-${process.pid}`;
    worker = spawnService(
      'generation-worker',
      process.execPath,
      entry,
      productionEnv({
        TEMPORAL_TASK_QUEUE: taskQueue,
        REPLICATE_API_KEY: 'r8_startup_value',
        OPENAI_API_KEY: 'sk-startup-value',
        ALLOW_OFFLINE_PROVIDERS: 'pinterest,speech',
      }),
      repo,
    );
    await worker.waitForOutput(/generation-worker ready/, 120_000);
    const identities = await waitFor(
      'the worker polling',
      async () => {
        const res = await temporal.client.connection.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: taskQueue, kind: 1 },
          taskQueueType: 1,
        });
        const ids = (res.pollers ?? []).map((p) => p.identity ?? '');
        return ids.length > 0 ? ids : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(identities).toHaveLength(1);
    expect(identities[0]).toMatch(
      /^\d+@\S+ providers=image_video:replicate,prompts:openai,llm:openai,pinterest:local,speech:local,transcription:openai$/,
    );
    expect(worker.output()).toMatch(/the offline local provider \(placeholder output\) serves pinterest, speech/);
    expect(worker.output()).not.toMatch(/startup_value|startup-value/);
  }, 150_000);
});
