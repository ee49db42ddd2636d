import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deploymentEnvShape, integer, isProduction, llmEnvShape, parseProvidersEnv } from '../src/index.js';

const deployment = z.object(deploymentEnvShape);

describe('the deployment stage: NODE_ENV and the Python system\'s ENVIRONMENT', () => {
  it('either name saying production means production', () => {
    expect(isProduction(deployment.parse({}))).toBe(false);
    expect(isProduction(deployment.parse({ NODE_ENV: 'production' }))).toBe(true);
    expect(isProduction(deployment.parse({ ENVIRONMENT: 'production' }))).toBe(true);
    expect(isProduction(deployment.parse({ NODE_ENV: 'development', ENVIRONMENT: 'production' }))).toBe(true);
    expect(isProduction(deployment.parse({ NODE_ENV: 'production', ENVIRONMENT: 'local' }))).toBe(true);
    for (const stage of ['local', 'staging', 'testing', '']) expect(isProduction(deployment.parse({ ENVIRONMENT: stage })), stage).toBe(false);
  });

  it('ENVIRONMENT takes the Python system\'s four values only', () => {
    const bad = deployment.safeParse({ ENVIRONMENT: 'Production' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]).toMatchObject({ path: ['ENVIRONMENT'], message: 'expected one of local, staging, production, testing' });
  });
});

describe('LLM variables under the Python system\'s names', () => {
  it('LITELLM_TIMEOUT is seconds, LITELLM_TIMEOUT_MS milliseconds; both unset by default', () => {
    const unset = parseProvidersEnv({});
    expect(unset.LITELLM_TIMEOUT).toBeUndefined();
    expect(unset.LITELLM_TIMEOUT_MS).toBeUndefined();
    expect(parseProvidersEnv({ LITELLM_TIMEOUT: '30' })).toMatchObject({ LITELLM_TIMEOUT: 30 });
    expect(parseProvidersEnv({ LITELLM_TIMEOUT_MS: '1500' })).toMatchObject({ LITELLM_TIMEOUT_MS: 1500 });
    expect(() => parseProvidersEnv({ LITELLM_TIMEOUT: '1.5' })).toThrow(/whole number from 1 to 600[\s\S]*"LITELLM_TIMEOUT"/);
    expect(() => parseProvidersEnv({ LITELLM_TIMEOUT: '120000' })).toThrow(/whole number from 1 to 600/);
  });

  it('model names with another LiteLLM provider prefix are refused, naming the variable and the provider', () => {
    expect(parseProvidersEnv({ LITELLM_PRIMARY_MODEL: 'openai/gpt-4o-mini', LITELLM_FALLBACK_MODEL: 'gemini-2.0-flash' })).toMatchObject({
      LITELLM_PRIMARY_MODEL: 'openai/gpt-4o-mini',
      LITELLM_FALLBACK_MODEL: 'gemini-2.0-flash',
    });
    const res = z.object(llmEnvShape).safeParse({ LITELLM_PRIMARY_MODEL: 'anthropic/claude-3-5-haiku', LITELLM_FALLBACK_MODEL: 'azure/gpt-4o' });
    expect(res.success).toBe(false);
    expect(res.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['LITELLM_PRIMARY_MODEL', expect.stringContaining('names the LiteLLM provider "anthropic", which this system does not call: use gemini/<model> or openai/<model>')],
      ['LITELLM_FALLBACK_MODEL', expect.stringContaining('names the LiteLLM provider "azure"')],
    ]);
    expect(() => parseProvidersEnv({ LITELLM_PRIMARY_MODEL: 'gemini/' })).toThrow(/names no model after/);
  });

  it('integer() without a default leaves the variable unset', () => {
    expect(z.object({ X: integer(undefined, 1, 5) }).parse({})).toEqual({ X: undefined });
    expect(z.object({ X: integer(3, 1, 5) }).parse({ X: ' ' })).toEqual({ X: 3 });
  });
});
