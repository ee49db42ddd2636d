/**
 * The LLM layer (the Python system's, without its defects): Gemini is the primary model, OpenAI the fallback on
 * transient errors only (rate limit, 5xx, timeout, connection); a 400 is not "transient" and is not
 * retried elsewhere. OpenAI alone when there is no Gemini key; the deterministic local LLM when there is
 * no key at all. Clients are created once (createLlm at process start).
 */
import { DEFAULT_PROMPT_MODEL } from '@gptmarket/contracts';
import { createLocalLlm } from '@gptmarket/offline';
import { createGemini, type GeminiClient } from '../gemini/index.js';
import { ProviderError, sanitizeReason } from '../errors.js';
import { createOpenAi, type ChatAnswer, type OpenAiClient, type TokenUsage } from '../openai/index.js';

export interface ChatRequest {
  system: string;
  user: string;
  model?: string;
  temperature?: number;
  maxTokens?: number;
  json: boolean;
  timeoutMs?: number;
}
export interface ChatResult {
  content: string;
  parsed: unknown | null;
  model: string;
  provider: 'openai' | 'gemini' | 'local';
  fallbackUsed: boolean;
  /** Tokens the provider reported for the call that answered (absent from the local LLM). */
  usage?: TokenUsage;
}
export interface LlmClient {
  complete(req: ChatRequest, signal?: AbortSignal): Promise<ChatResult>;
}

export interface LlmEnvInput {
  OPENAI_API_KEY?: string | undefined;
  OPENAI_BASE_URL?: string | undefined;
  GEMINI_API_KEY?: string | undefined;
  GEMINI_BASE_URL?: string | undefined;
  LITELLM_PRIMARY_MODEL?: string | undefined;
  LITELLM_FALLBACK_MODEL?: string | undefined;
  LITELLM_FALLBACK_ENABLED?: boolean | undefined;
  /** Caps every call's timeout when set; LITELLM_TIMEOUT (seconds, the Python system's name) when only it is set. */
  LITELLM_TIMEOUT_MS?: number | undefined;
  LITELLM_TIMEOUT?: number | undefined;
  OPENAI_PROMPT_MODEL?: string | undefined;
}

/** The LiteLLM provider prefixes this system calls; LiteLLM's others (anthropic/, azure/, ...) are refused. */
export const LLM_PROVIDERS = ['gemini', 'openai'] as const;
export type LlmProvider = (typeof LLM_PROVIDERS)[number];

/**
 * Why a LiteLLM-style model name cannot be served here, or undefined when it can: `gemini/<model>`,
 * `openai/<model>` or a bare model name. Used to refuse configuration at start and by `splitModel`.
 */
export function llmModelProblem(name: string): string | undefined {
  const n = name.trim();
  if (!n) return 'names no model';
  const slash = n.indexOf('/');
  if (slash === -1) return undefined;
  const prefix = n.slice(0, slash);
  if (!(LLM_PROVIDERS as readonly string[]).includes(prefix)) {
    return `names the LiteLLM provider "${prefix.slice(0, 40)}", which this system does not call: use gemini/<model> or openai/<model> (OPENAI_BASE_URL can point at any OpenAI-compatible server)`;
  }
  if (!n.slice(slash + 1).trim()) return `names no model after "${prefix}/"`;
  return undefined;
}

/**
 * `gemini/gemini-2.0-flash` → { provider: 'gemini', model: 'gemini-2.0-flash' }; a bare name guesses by prefix
 * (gemini-* → Gemini, anything else → OpenAI). Any other provider prefix is a non-retryable bad_request.
 */
export function splitModel(name: string): { provider: LlmProvider; model: string } {
  const problem = llmModelProblem(name);
  if (problem) throw new ProviderError('llm', 'bad_request', `LLM model ${problem}`, { retryable: false });
  const m = /^(gemini|openai)\/(.+)$/.exec(name.trim());
  if (m) return { provider: m[1] as LlmProvider, model: m[2]!.trim() };
  return { provider: /^gemini/.test(name.trim()) ? 'gemini' : 'openai', model: name.trim() };
}

const DEFAULT_TIMEOUT = 120_000;

/**
 * The timeout of one call: the call's own (set to fit its activity), capped by LITELLM_TIMEOUT_MS or
 * LITELLM_TIMEOUT when the operator set one; 120 s for a call without one when neither is set.
 */
export function llmTimeoutMs(env: Pick<LlmEnvInput, 'LITELLM_TIMEOUT_MS' | 'LITELLM_TIMEOUT'>, requested?: number): number {
  const configured = env.LITELLM_TIMEOUT_MS ?? (env.LITELLM_TIMEOUT !== undefined ? env.LITELLM_TIMEOUT * 1000 : undefined);
  if (requested === undefined) return configured ?? DEFAULT_TIMEOUT;
  return configured === undefined ? requested : Math.min(requested, configured);
}

/** The JSON in an answer (also inside a ```json fence), or null. */
export function parseJsonAnswer(content: string): unknown | null {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(content);
  for (const candidate of [content, fenced?.[1]]) {
    if (candidate === undefined) continue;
    try {
      return JSON.parse(candidate.trim()) as unknown;
    } catch {
      /* next */
    }
  }
  return null;
}

interface Backend {
  name: 'openai' | 'gemini';
  chat: OpenAiClient['chat'];
}

function result(answer: ChatAnswer, provider: 'openai' | 'gemini', json: boolean, fallbackUsed: boolean): ChatResult {
  const { content, model } = answer;
  const parsed = json ? parseJsonAnswer(content) : null;
  if (json && parsed === null) {
    throw new ProviderError(provider, 'invalid_output', `${provider}: the answer is not valid JSON`, { retryable: true });
  }
  return { content, parsed, model: `${provider}/${model}`, provider, fallbackUsed, ...(answer.usage ? { usage: answer.usage } : {}) };
}

export function createLlm(env: LlmEnvInput, opts: { openai?: OpenAiClient; gemini?: GeminiClient } = {}): LlmClient {
  const openai = opts.openai ?? (env.OPENAI_API_KEY ? createOpenAi(env) : undefined);
  // With an OpenAI fallback, a failing Gemini call moves on at once instead of backing off first.
  const gemini =
    opts.gemini ??
    (env.GEMINI_API_KEY ? createGemini(env, { maxAttempts: openai && env.LITELLM_FALLBACK_ENABLED !== false ? 1 : 3 }) : undefined);
  if (!openai && !gemini) return createLocalLlm();
  const primaryName = env.LITELLM_PRIMARY_MODEL ?? 'gemini/gemini-2.0-flash';
  const fallbackName = env.LITELLM_FALLBACK_MODEL ?? 'openai/gpt-5-nano';
  // A model another LiteLLM provider serves is refused here, at start, not sent to OpenAI on the first call.
  const configured = splitModel(primaryName);
  const fallback = splitModel(fallbackName);
  const fallbackEnabled = env.LITELLM_FALLBACK_ENABLED ?? true;
  const backend = (p: 'openai' | 'gemini'): Backend | undefined =>
    p === 'openai'
      ? openai
        ? { name: 'openai', chat: openai.chat.bind(openai) }
        : undefined
      : gemini
        ? { name: 'gemini', chat: gemini.chat.bind(gemini) }
        : undefined;

  return {
    async complete(req, signal) {
      const timeoutMs = llmTimeoutMs(env, req.timeoutMs);
      let primary = req.model ? splitModel(req.model) : configured;
      // The requested provider has no key: use the configured one (OpenAI only when there is no Gemini key).
      if (!backend(primary.provider)) primary = backend(fallback.provider) ? fallback : configured;
      const first = backend(primary.provider)!;
      const call = (m: string) => ({
        model: m,
        system: req.system,
        user: req.user,
        json: req.json,
        temperature: req.temperature,
        maxTokens: req.maxTokens,
        timeoutMs,
      });
      const second =
        fallbackEnabled && (fallback.provider !== primary.provider || fallback.model !== primary.model)
          ? backend(fallback.provider)
          : undefined;
      try {
        const r = await first.chat(call(primary.model), signal);
        return result(r, first.name, req.json, false);
      } catch (err) {
        const e =
          err instanceof ProviderError ? err : new ProviderError(first.name, 'unavailable', sanitizeReason(err), { retryable: false });
        // Only transient failures move to the fallback; a bad request would fail there too.
        if (!second || !e.retryable || signal?.aborted) throw e;
        try {
          const r = await second.chat(call(fallback.model), signal);
          return result(r, second.name, req.json, true);
        } catch (err2) {
          const e2 =
            err2 instanceof ProviderError
              ? err2
              : new ProviderError(second.name, 'unavailable', sanitizeReason(err2), { retryable: false });
          throw new ProviderError(
            second.name,
            e2.code,
            `Both primary (${first.name}/${primary.model}) and fallback (${second.name}/${fallback.model}) models failed. Primary error: ${sanitizeReason(e.message, 150)} Fallback error: ${sanitizeReason(e2.message, 150)}`,
            {
              retryable: e.retryable || e2.retryable,
              ...(e2.status !== undefined ? { status: e2.status } : {}),
              ...(e2.retryAfterMs !== undefined ? { retryAfterMs: e2.retryAfterMs } : {}),
            },
          );
        }
      }
    },
  };
}

/** OpenAI direct (the Ruby prompt calls), model OPENAI_PROMPT_MODEL; null when no OpenAI key. */
export function createOpenAiLlm(env: LlmEnvInput, opts: { openai?: OpenAiClient } = {}): LlmClient | null {
  const openai = opts.openai ?? (env.OPENAI_API_KEY ? createOpenAi(env) : undefined);
  if (!openai) return null;
  const defaultModel = env.OPENAI_PROMPT_MODEL ?? DEFAULT_PROMPT_MODEL;
  return {
    async complete(req, signal) {
      const model = req.model ? splitModel(req.model).model : defaultModel;
      const r = await openai.chat(
        {
          model,
          system: req.system,
          user: req.user,
          json: req.json,
          temperature: req.temperature ?? 0.7,
          maxTokens: req.maxTokens ?? 2048,
          timeoutMs: llmTimeoutMs(env, req.timeoutMs),
        },
        signal,
      );
      return result(r, 'openai', req.json, false);
    },
  };
}
