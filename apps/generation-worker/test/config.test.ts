import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGenerationWorkerEnv } from '../src/env.js';
import { createGenerationWorker } from '../src/worker.js';

/** The worker's configuration under the Python system's names, refused at start when it cannot be honoured. */
const repo = resolve(import.meta.dirname, '../../..');
const startWorker = (env: Record<string, string>) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@gptmarket/source', join(repo, 'apps/generation-worker/src/main.ts')], {
    env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: '127.0.0.1:1', WORKFLOW_SECRET_KEY: 'x', ...env },
    encoding: 'utf8',
    timeout: 60_000,
    cwd: repo,
  });

describe('generation worker configuration', () => {
  it('refuses to start with an LLM model of another LiteLLM provider, saying which variable and why', () => {
    const res = startWorker({
      LITELLM_PRIMARY_MODEL: 'anthropic/claude-3-5-haiku',
      GEMINI_API_KEY: 'AIzaFakeGeminiKey0123456789abcdefghij',
    });
    expect(res.status).toBe(78);
    expect(res.stderr).toContain('generation-worker: invalid environment:');
    expect(res.stderr).toContain(
      'LITELLM_PRIMARY_MODEL: names the LiteLLM provider "anthropic", which this system does not call: use gemini/<model> or openai/<model>',
    );
    expect(res.stderr).not.toContain('AIzaFake');
  }, 90_000);

  it('reads LITELLM_TIMEOUT (seconds) and ENVIRONMENT', () => {
    const env = loadGenerationWorkerEnv({ LITELLM_TIMEOUT: '45', ENVIRONMENT: 'staging' });
    expect(env).toMatchObject({ LITELLM_TIMEOUT: 45, ENVIRONMENT: 'staging', NODE_ENV: 'development' });
    expect(env.LITELLM_TIMEOUT_MS).toBeUndefined();
  });

  it('with ENVIRONMENT=production, like NODE_ENV=production, refuses to start without the workflow secret', async () => {
    for (const stage of [{ ENVIRONMENT: 'production' }, { NODE_ENV: 'production' }]) {
      await expect(createGenerationWorker(loadGenerationWorkerEnv({ ...stage, TEMPORAL_ADDRESS: '127.0.0.1:1' }))).rejects.toThrow(
        'WORKFLOW_SECRET_ENABLED is true but WORKFLOW_SECRET_KEY is not set: refusing to start in production',
      );
    }
  });
});
