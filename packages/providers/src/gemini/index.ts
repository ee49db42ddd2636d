/**
 * Gemini chat (JSON output) through the official `@google/genai` SDK, pointed at GEMINI_BASE_URL
 * (`httpOptions.baseUrl`). The SDK's retries are off (its default); a fetch wrapper turns every non-2xx
 * answer into a typed ProviderError with the Retry-After hint, and the shared limiter retries 429.
 */
import { GoogleGenAI } from '@google/genai';
import { httpProviderError, ProviderError, toProviderError } from '../errors.js';
import { providerLimiter, type ProviderLimiter } from '../limits.js';
import type { ChatAnswer, ChatCall } from '../openai/index.js';

export interface GeminiEnvInput {
  GEMINI_API_KEY?: string | undefined;
  GEMINI_BASE_URL?: string | undefined;
}

export interface GeminiClient {
  readonly limiter: ProviderLimiter;
  chat(call: ChatCall, signal?: AbortSignal): Promise<ChatAnswer>;
}

export function createGemini(env: GeminiEnvInput, opts: { limiter?: ProviderLimiter; maxAttempts?: number } = {}): GeminiClient {
  if (!env.GEMINI_API_KEY) throw new Error('createGemini: GEMINI_API_KEY is not set');
  const typedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    let res: Response;
    try {
      res = await fetch(input, init);
    } catch (err) {
      throw toProviderError('gemini', err, init?.signal ?? undefined);
    }
    if (res.ok) return res;
    throw httpProviderError('gemini', res.status, await res.text().catch(() => ''), res.headers);
  };
  const sdk = new GoogleGenAI({
    apiKey: env.GEMINI_API_KEY,
    httpOptions: { ...(env.GEMINI_BASE_URL ? { baseUrl: env.GEMINI_BASE_URL } : {}), fetch: typedFetch as typeof fetch },
  });
  const limiter = opts.limiter ?? providerLimiter('gemini');
  const maxAttempts = opts.maxAttempts ?? 3;
  return {
    limiter,
    async chat(call, signal) {
      return limiter.run(
        async () => {
          const timeout = AbortSignal.timeout(call.timeoutMs);
          const abortSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
          try {
            const res = await sdk.models.generateContent({
              model: call.model,
              contents: call.user,
              config: {
                ...(call.system ? { systemInstruction: call.system } : {}),
                ...(call.temperature !== undefined ? { temperature: call.temperature } : {}),
                ...(call.maxTokens !== undefined ? { maxOutputTokens: call.maxTokens } : {}),
                ...(call.json ? { responseMimeType: 'application/json' } : {}),
                abortSignal,
              },
            });
            const content = res.text;
            if (typeof content !== 'string' || content === '') {
              const reason = res.candidates?.[0]?.finishReason ?? res.promptFeedback?.blockReason ?? 'empty answer';
              throw new ProviderError('gemini', 'invalid_output', `gemini: no text in the answer (${String(reason)})`, {
                retryable: false,
              });
            }
            const meta = res.usageMetadata;
            const usage =
              meta && (meta.promptTokenCount !== undefined || meta.candidatesTokenCount !== undefined)
                ? {
                    input_tokens: meta.promptTokenCount ?? 0,
                    output_tokens: (meta.candidatesTokenCount ?? 0) + (meta.thoughtsTokenCount ?? 0),
                  }
                : undefined;
            return { content, model: res.modelVersion ?? call.model, ...(usage ? { usage } : {}) };
          } catch (err) {
            if (timeout.aborted && !signal?.aborted)
              throw new ProviderError('gemini', 'timeout', 'gemini: request timed out', { cause: err });
            throw toProviderError('gemini', err, signal);
          }
        },
        { maxAttempts, model: call.model, ...(signal ? { signal } : {}) },
      );
    },
  };
}
