import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { llmEnvShape, providersEnvShape } from '../src/index.js';

const parseProvidersEnv = (source: Record<string, string | undefined>) => z.object(providersEnvShape).parse(source);

describe("LLM variables under the Python system's names", () => {
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
    const res = z
      .object(llmEnvShape)
      .safeParse({ LITELLM_PRIMARY_MODEL: 'anthropic/claude-3-5-haiku', LITELLM_FALLBACK_MODEL: 'azure/gpt-4o' });
    expect(res.success).toBe(false);
    expect(res.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      [
        'LITELLM_PRIMARY_MODEL',
        expect.stringContaining(
          'names the LiteLLM provider "anthropic", which this system does not call: use gemini/<model> or openai/<model>',
        ),
      ],
      ['LITELLM_FALLBACK_MODEL', expect.stringContaining('names the LiteLLM provider "azure"')],
    ]);
    expect(() => parseProvidersEnv({ LITELLM_PRIMARY_MODEL: 'gemini/' })).toThrow(/names no model after/);
  });
});
