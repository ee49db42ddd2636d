/** The Ruby prompt activities with OpenAI (a fake server speaking its protocol), templates and the local fallback. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { LocalStorage } from '@gptmarket/storage';
import { createOpenAiLlm } from '@gptmarket/providers';
import { createGenerationActivities, type PaidProviders } from '../src/activities/index.js';
import { startFakeOpenAi, type FakeLlm } from '../../../packages/providers/test/fakes/llm.js';

let oa: FakeLlm & { baseUrl: string };
let dir: string;
beforeAll(async () => {
  oa = await startFakeOpenAi();
  dir = await mkdtemp(join(tmpdir(), 'prompt-acts-'));
});
afterAll(async () => {
  await oa?.close();
  await rm(dir, { recursive: true, force: true });
});

const person = {
  gender: 'male',
  age_range: 'late_30s',
  emotion: 'worried',
  style: 'streetwear',
  background: 'car',
  hair_color: 'jet black',
  ethnicity: 'east asian',
  clothing: 'denim jacket',
  context: 'reading a bill',
};

function acts(extra: Partial<PaidProviders> = {}) {
  const promptLlm = createOpenAiLlm({ OPENAI_API_KEY: 'sk-test-openai-key-123456', OPENAI_BASE_URL: oa.baseUrl });
  return createGenerationActivities({
    storage: new LocalStorage({ dir, publicBaseUrl: 'http://x/media' }),
    secrets: { enabled: false, secrets: [] },
    providers: { replicate: null, downloadPolicy: {}, pollMs: 100, maxOutputBytes: 1e6, promptLlm, ...extra },
  });
}

describe('Ruby prompt activities', () => {
  it('person: every input reaches OpenAI; the JSON answer is the prompt', async () => {
    const answer = {
      subject: { type: 'selfie', hair: { color: 'jet black' } },
      apparel: { clothing: 'denim jacket' },
      phone: {},
      environment: {},
      image_rendering: {},
    };
    oa.replies.push({ content: JSON.stringify(answer) });
    const r = await new MockActivityEnvironment().run(acts().generatePersonPrompt, person);
    // With the model that answered and the tokens OpenAI's `usage` reported (the fake's 10 and 10).
    expect(r).toEqual({
      json_prompt: answer,
      text_prompt: JSON.stringify(answer),
      provider: 'openai',
      usage: { provider: 'openai', model: 'openai/gpt-4o-mini', input_tokens: 10, output_tokens: 10 },
    });
    const body = oa.requests.at(-1)!.json as {
      model: string;
      messages: Array<{ role: string; content: string }>;
      response_format: unknown;
    };
    expect(body.model).toBe('gpt-4o-mini');
    expect(body.response_format).toEqual({ type: 'json_object' });
    const user = body.messages.find((m) => m.role === 'user')!.content;
    for (const v of Object.values(person)) expect(user).toContain(v);
  });

  it('reaction: movements and final_prompt; a malformed answer is a retryable ProviderError', async () => {
    oa.replies.push({ content: JSON.stringify({ movements: ['a', 'b', 'c', 'd', 'e'], final_prompt: 'words' }) });
    const r = await new MockActivityEnvironment().run(acts().generateReactionPrompt, { emotion: 'shocked', context: null, duration: 5 });
    expect(r).toEqual({
      movements: ['a', 'b', 'c', 'd', 'e'],
      video_prompt: 'words',
      provider: 'openai',
      usage: { provider: 'openai', model: 'openai/gpt-4o-mini', input_tokens: 10, output_tokens: 10 },
    });
    oa.replies.push({ content: JSON.stringify({ nope: true }) });
    const err = await new MockActivityEnvironment()
      .run(acts().generateReactionPrompt, { emotion: 'shocked', context: null, duration: 5 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('ProviderError');
    expect((err as ApplicationFailure).nonRetryable).toBe(false);
  });

  it('an OpenAI 400 is a non-retryable ProviderError; PROMPT_PATH overrides the template at activity time', async () => {
    oa.replies.push({ status: 400, body: { error: { message: 'Invalid value for max_tokens', type: 'invalid_request_error' } } });
    const err = (await new MockActivityEnvironment()
      .run(acts().generateReactionPrompt, { emotion: 'shocked', context: null, duration: 5 })
      .catch((e: unknown) => e)) as ApplicationFailure;
    expect(err.type).toBe('ProviderError');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('Invalid value for max_tokens');

    await writeFile(join(dir, 'ugc-video-reaction.md'), '<!-- system -->\nOVERRIDE\n<!-- user -->\n{{emotion}}|{{context}}|{{duration}}\n');
    oa.replies.push({ content: JSON.stringify({ movements: ['m'], final_prompt: 'p' }) });
    await new MockActivityEnvironment().run(acts({ promptPath: dir }).generateReactionPrompt, {
      emotion: 'sad',
      context: null,
      duration: 10,
    });
    const body = oa.requests.at(-1)!.json as { messages: Array<{ role: string; content: string }> };
    expect(body.messages).toEqual([
      { role: 'system', content: 'OVERRIDE' },
      { role: 'user', content: 'sad|(none)|10' },
    ]);
  });

  it('without an OpenAI key the local prompt functions answer', async () => {
    const local = createGenerationActivities({
      storage: new LocalStorage({ dir, publicBaseUrl: 'http://x/media' }),
      secrets: { enabled: false, secrets: [] },
    });
    const before = oa.requests.length;
    const r = (await new MockActivityEnvironment().run(local.generatePersonPrompt, person)) as { provider: string; json_prompt: unknown };
    expect(r.provider).toBe('local');
    expect(JSON.stringify(r.json_prompt)).toContain('jet black');
    expect(oa.requests.length).toBe(before);
  });
});
