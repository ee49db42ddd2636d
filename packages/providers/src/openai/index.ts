/**
 * OpenAI chat (JSON output) and audio transcription through the official `openai` SDK, pointed at
 * OPENAI_BASE_URL. The SDK's own retries are off: 429 (Retry-After) and 5xx retries go through the
 * shared per-process limiter, so every OpenAI call in the process respects the same gate and cool-down.
 */
import { createReadStream } from 'node:fs';
import OpenAI from 'openai';
import { ProviderError, toProviderError } from '../errors.js';
import { providerLimiter, type ProviderLimiter } from '../limits.js';

export interface OpenAiEnvInput {
  OPENAI_API_KEY?: string | undefined;
  OPENAI_BASE_URL?: string | undefined;
}

export interface ChatCall {
  model: string;
  system: string;
  user: string;
  json: boolean;
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  timeoutMs: number;
}

/** Tokens a chat call used, as the provider reported them (OpenAI `usage`, Gemini `usageMetadata`). */
export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
}
export interface ChatAnswer {
  content: string;
  model: string;
  usage?: TokenUsage;
}

export interface OpenAiClient {
  readonly limiter: ProviderLimiter;
  chat(call: ChatCall, signal?: AbortSignal): Promise<ChatAnswer>;
  transcribe(filePath: string, model: string, signal?: AbortSignal): Promise<string>;
}

/** gpt-5 and o-series reasoning models accept only the default temperature. */
const fixedTemperature = (model: string) => /^(gpt-5|o\d)/.test(model);

export function createOpenAi(env: OpenAiEnvInput, opts: { limiter?: ProviderLimiter; maxAttempts?: number } = {}): OpenAiClient {
  if (!env.OPENAI_API_KEY) throw new Error('createOpenAi: OPENAI_API_KEY is not set');
  const sdk = new OpenAI({
    apiKey: env.OPENAI_API_KEY,
    ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
    maxRetries: 0,
  });
  const limiter = opts.limiter ?? providerLimiter('openai');
  const maxAttempts = opts.maxAttempts ?? 3;
  return {
    limiter,
    async chat(call, signal) {
      return limiter.run(
        async () => {
          try {
            const res = await sdk.chat.completions.create(
              {
                model: call.model,
                messages: [
                  ...(call.system ? [{ role: 'system' as const, content: call.system }] : []),
                  { role: 'user' as const, content: call.user },
                ],
                ...(call.temperature !== undefined && !fixedTemperature(call.model) ? { temperature: call.temperature } : {}),
                ...(call.maxTokens !== undefined ? { max_completion_tokens: call.maxTokens } : {}),
                ...(call.json ? { response_format: { type: 'json_object' as const } } : {}),
              },
              { timeout: call.timeoutMs, ...(signal ? { signal } : {}) },
            );
            const content = res.choices[0]?.message?.content;
            if (typeof content !== 'string')
              throw new ProviderError('openai', 'invalid_output', 'openai: the answer has no message content', { retryable: false });
            // `usage` (CompletionUsage: prompt_tokens, completion_tokens) is on every non-streamed completion.
            const usage = res.usage ? { input_tokens: res.usage.prompt_tokens, output_tokens: res.usage.completion_tokens } : undefined;
            return { content, model: res.model || call.model, ...(usage ? { usage } : {}) };
          } catch (err) {
            throw toProviderError('openai', err, signal);
          }
        },
        { maxAttempts, model: call.model, ...(signal ? { signal } : {}) },
      );
    },
    async transcribe(filePath, model, signal) {
      return limiter.run(
        async () => {
          try {
            const res = await sdk.audio.transcriptions.create(
              { file: createReadStream(filePath), model, response_format: 'json' },
              { timeout: 10 * 60_000, ...(signal ? { signal } : {}) },
            );
            return typeof res === 'string' ? res : res.text;
          } catch (err) {
            throw toProviderError('openai', err, signal);
          }
        },
        { maxAttempts, model, ...(signal ? { signal } : {}) },
      );
    },
  };
}
