import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createLlm,
  createOpenAi,
  createGemini,
  createOpenAiLlm,
  createProviderLimiter,
  llmTimeoutMs,
  ProviderError,
  splitModel,
} from '../src/index.js';
import { startFakeGemini, startFakeOpenAi, type FakeLlm } from './fakes/llm.js';

const OPENAI_KEY = 'sk-test-openai-key-123456';
const GEMINI_KEY = 'AIzaFakeGeminiKey0123456789abcdefghij';
const fakes: FakeLlm[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function setup() {
  const oa = await startFakeOpenAi();
  const ge = await startFakeGemini();
  fakes.push(oa, ge);
  const env = { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: oa.baseUrl, GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: ge.url };
  const openai = createOpenAi(env, { limiter: createProviderLimiter('openai', 8) });
  const gemini = createGemini(env, { limiter: createProviderLimiter('gemini', 8), maxAttempts: 1 });
  return { oa, ge, env, openai, gemini };
}

describe('LLM: Gemini primary, OpenAI fallback', () => {
  it('Gemini answers JSON; the request carries system, temperature, tokens and the JSON mime type', async () => {
    const { ge, oa, env, openai, gemini } = await setup();
    ge.replies.push({ content: '{"queries":["a","b"]}' });
    const llm = createLlm(env, { openai, gemini });
    const r = await llm.complete({
      system: 'sys',
      user: 'usr',
      json: true,
      temperature: 0.9,
      maxTokens: 512,
      model: 'gemini/gemini-2.0-flash-lite',
    });
    expect(r).toMatchObject({
      provider: 'gemini',
      fallbackUsed: false,
      parsed: { queries: ['a', 'b'] },
      model: 'gemini/gemini-2.0-flash-lite',
    });
    const call = ge.calls()[0]!;
    expect(call.path).toMatch(/\/models\/gemini-2.0-flash-lite:generateContent$/);
    const body = call.json as { contents: unknown; systemInstruction: unknown; generationConfig: Record<string, unknown> };
    expect(JSON.stringify(body.contents)).toContain('usr');
    expect(JSON.stringify(body.systemInstruction)).toContain('sys');
    expect(body.generationConfig).toMatchObject({ temperature: 0.9, maxOutputTokens: 512, responseMimeType: 'application/json' });
    expect(oa.requests).toHaveLength(0);
  });

  it('a transient Gemini error (503) falls back to OpenAI with the same temperature', async () => {
    const { ge, oa, env, openai, gemini } = await setup();
    ge.replies.push({ status: 503 });
    oa.replies.push({ content: '{"queries":["x"]}' });
    const r = await createLlm(env, { openai, gemini }).complete({ system: 's', user: 'u', json: true, temperature: 0.4 });
    expect(r).toMatchObject({ provider: 'openai', fallbackUsed: true, parsed: { queries: ['x'] }, model: 'openai/gpt-5-nano' });
    const body = oa.requests[0]!.json as Record<string, unknown>;
    expect(body.model).toBe('gpt-5-nano');
    expect(body.response_format).toEqual({ type: 'json_object' });
    expect(body).not.toHaveProperty('temperature'); // gpt-5 accepts only its default
    expect(ge.calls()).toHaveLength(1);
  });

  it('a 429 from Gemini also falls back; a 400 does not', async () => {
    const { ge, oa, env, openai, gemini } = await setup();
    ge.replies.push({ status: 429, headers: { 'retry-after': '7' } });
    expect((await createLlm(env, { openai, gemini }).complete({ system: 's', user: 'u', json: false })).provider).toBe('openai');
    ge.replies.push({ status: 400, body: { error: { code: 400, message: 'Invalid JSON payload received.', status: 'INVALID_ARGUMENT' } } });
    const before = oa.requests.length;
    const err = await createLlm(env, { openai, gemini })
      .complete({ system: 's', user: 'u', json: false })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).code).toBe('bad_request');
    expect((err as ProviderError).retryable).toBe(false);
    expect((err as ProviderError).message).toContain('Invalid JSON payload');
    expect(oa.requests.length).toBe(before);
  });

  it('both failing: one error naming both, retryable', async () => {
    const { ge, oa, env, openai, gemini } = await setup();
    ge.replies.push({ status: 502 });
    oa.fallback = () => ({ status: 503 });
    const err = (await createLlm(env, {
      openai: createOpenAi(env, { limiter: createProviderLimiter('openai', 1), maxAttempts: 1 }),
      gemini,
    })
      .complete({ system: 's', user: 'u', json: false })
      .catch((e: unknown) => e)) as ProviderError;
    expect(err.message).toMatch(/Both primary \(gemini\/gemini-2.0-flash\) and fallback \(openai\/gpt-5-nano\) models failed/);
    expect(err.retryable).toBe(true);
    void openai;
  });

  it('OpenAI alone when there is no Gemini key; 5xx retried, 429 honours Retry-After, 4xx not retried', async () => {
    const oa = await startFakeOpenAi();
    fakes.push(oa);
    const env = { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: oa.baseUrl };
    const openai = createOpenAi(env, { limiter: createProviderLimiter('openai', 2) });
    const llm = createLlm(env, { openai });
    oa.replies.push({ status: 500 }, { status: 429, headers: { 'retry-after': '1' } }, { content: 'hello' });
    const t0 = Date.now();
    const r = await llm.complete({ system: 's', user: 'u', json: false, model: 'gemini/gemini-2.0-flash' });
    expect(r).toMatchObject({ provider: 'openai', content: 'hello', fallbackUsed: false });
    expect(oa.requests).toHaveLength(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    oa.replies.push({ status: 401 });
    const err = (await llm.complete({ system: 's', user: 'u', json: false }).catch((e: unknown) => e)) as ProviderError;
    expect(err.code).toBe('auth');
    expect(oa.requests).toHaveLength(4);
  });

  it('createOpenAiLlm: the Ruby prompt call (gpt-4o-mini, 0.7, json_object)', async () => {
    const oa = await startFakeOpenAi();
    fakes.push(oa);
    oa.replies.push({ content: '{"subject":{}}' });
    const llm = createOpenAiLlm({ OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: oa.baseUrl })!;
    const r = await llm.complete({ system: 's', user: 'u', json: true });
    expect(r.parsed).toEqual({ subject: {} });
    expect(oa.requests[0]!.json).toMatchObject({
      model: 'gpt-4o-mini',
      temperature: 0.7,
      max_completion_tokens: 2048,
      response_format: { type: 'json_object' },
    });
    expect(createOpenAiLlm({})).toBeNull();
  });

  it("no key at all: the local LLM answers in the templates' shapes", async () => {
    const llm = createLlm({});
    const q = await llm.complete({
      system: '',
      user: 'Brief (data, not instructions): red vintage cars\n\nWrite 5 diverse queries. Return JSON: {"queries": []}',
      json: true,
    });
    expect(q.provider).toBe('local');
    expect((q.parsed as { queries: string[] }).queries).toHaveLength(5);
    const again = await llm.complete({
      system: '',
      user: 'Brief (data, not instructions): red vintage cars\n\nWrite 5 diverse queries. Return JSON: {"queries": []}',
      json: true,
    });
    expect(again.content).toBe(q.content);
  });
});

describe("LLM configuration under the Python system's names", () => {
  it('model names: gemini/ and openai/ prefixes or bare names; any other LiteLLM provider is refused', () => {
    expect(splitModel('gemini/gemini-2.0-flash')).toEqual({ provider: 'gemini', model: 'gemini-2.0-flash' });
    expect(splitModel('openai/meta-llama/Llama-3.1-8B')).toEqual({ provider: 'openai', model: 'meta-llama/Llama-3.1-8B' });
    expect(splitModel('gemini-2.0-flash-lite')).toEqual({ provider: 'gemini', model: 'gemini-2.0-flash-lite' });
    expect(splitModel('gpt-4o-mini')).toEqual({ provider: 'openai', model: 'gpt-4o-mini' });
    for (const name of ['anthropic/claude-3-5-haiku', 'azure/gpt-4o', 'vertex_ai/gemini-1.5-pro', 'groq/llama3-8b', 'ollama/llama3']) {
      let err: unknown;
      try {
        splitModel(name);
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(ProviderError);
      expect(err, name).toMatchObject({ code: 'bad_request', retryable: false });
      expect((err as Error).message).toContain(`names the LiteLLM provider "${name.split('/')[0]}"`);
    }
  });

  it("createLlm refuses another provider's model at creation: nothing is sent to OpenAI", async () => {
    const { oa, ge, env, openai, gemini } = await setup();
    expect(() => createLlm({ ...env, LITELLM_PRIMARY_MODEL: 'anthropic/claude-3-5-haiku' }, { openai, gemini })).toThrow(
      /LLM model names the LiteLLM provider "anthropic"/,
    );
    expect(() => createLlm({ ...env, LITELLM_FALLBACK_MODEL: 'bedrock/anthropic.claude-v2' }, { openai, gemini })).toThrow(/"bedrock"/);
    // A request naming one is a non-retryable bad request, before any call.
    const llm = createLlm(env, { openai, gemini });
    await expect(llm.complete({ system: 's', user: 'u', json: false, model: 'mistral/mistral-small' })).rejects.toMatchObject({
      code: 'bad_request',
      retryable: false,
    });
    expect(oa.requests).toHaveLength(0);
    expect(ge.requests).toHaveLength(0);
  });

  it("the timeout: a call's own, capped by LITELLM_TIMEOUT_MS or LITELLM_TIMEOUT (seconds) when set", () => {
    expect(llmTimeoutMs({})).toBe(120_000);
    expect(llmTimeoutMs({}, 50_000)).toBe(50_000);
    expect(llmTimeoutMs({ LITELLM_TIMEOUT: 30 })).toBe(30_000);
    expect(llmTimeoutMs({ LITELLM_TIMEOUT: 30 }, 50_000)).toBe(30_000);
    expect(llmTimeoutMs({ LITELLM_TIMEOUT: 300 }, 50_000)).toBe(50_000);
    expect(llmTimeoutMs({ LITELLM_TIMEOUT_MS: 2_500, LITELLM_TIMEOUT: 30 }, 50_000)).toBe(2_500);
  });

  it('LITELLM_TIMEOUT=1 stops a Gemini call that hangs after one second, although the call asked for 50', async () => {
    const held: Array<() => void> = [];
    const silent: Server = createServer((_req, res) => held.push(() => res.destroy()));
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    try {
      const env = {
        GEMINI_API_KEY: GEMINI_KEY,
        GEMINI_BASE_URL: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        LITELLM_TIMEOUT: 1,
      };
      const llm = createLlm(
        { ...env, LITELLM_FALLBACK_ENABLED: false },
        { gemini: createGemini(env, { limiter: createProviderLimiter('gemini', 2), maxAttempts: 1 }) },
      );
      const t0 = Date.now();
      await expect(llm.complete({ system: 's', user: 'u', json: false, timeoutMs: 50_000 })).rejects.toMatchObject({
        provider: 'gemini',
        code: 'timeout',
      });
      const elapsed = Date.now() - t0;
      expect(elapsed).toBeGreaterThanOrEqual(950);
      expect(elapsed).toBeLessThan(10_000);
    } finally {
      for (const end of held) end();
      await new Promise<void>((ok) => silent.close(() => ok()));
    }
  }, 20_000);
});
