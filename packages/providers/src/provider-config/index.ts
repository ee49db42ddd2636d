import { z } from 'zod';
import { CAPABILITY_NAMES, PROVIDER_CAPABILITIES, type ProviderCapability, type ProviderPlan } from '@gptmarket/contracts';
import { booleanFlag, integer, optionalString, secretString, stringWithDefault, urlString } from '@gptmarket/runtime';
import { llmModelProblem } from '../llm/index.js';

const llmModel = (fallback: string) =>
  stringWithDefault(fallback).superRefine((v, ctx) => {
    const problem = llmModelProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * Keys, base URLs and options of every provider, as zod shapes the apps spread into their env schemas.
 * A provider without its key is not called: the offline `local` provider takes its place.
 */
export const replicateEnvShape = {
  REPLICATE_API_KEY: secretString(),
  /** Alias of REPLICATE_API_KEY (the Python system ignored it; we accept either). */
  REPLICATE_API_TOKEN: secretString(),
  REPLICATE_BASE_URL: urlString(),
  /** Poll interval while a prediction runs. */
  REPLICATE_POLL_MS: integer(2000, 50, 60_000),
};
export const openAiEnvShape = {
  OPENAI_API_KEY: secretString(),
  OPENAI_BASE_URL: urlString(),
  /** Model of the Ruby prompt calls. */
  OPENAI_PROMPT_MODEL: stringWithDefault('gpt-4o-mini'),
  OPENAI_TRANSCRIPTION_MODEL: stringWithDefault('whisper-1'),
};
export const geminiEnvShape = {
  GEMINI_API_KEY: secretString(),
  GEMINI_BASE_URL: urlString(),
};
export const llmEnvShape = {
  ...openAiEnvShape,
  ...geminiEnvShape,
  /** LiteLLM-style names; a prefix other than gemini/ or openai/ is refused at start. */
  LITELLM_PRIMARY_MODEL: llmModel('gemini/gemini-2.0-flash'),
  LITELLM_FALLBACK_MODEL: llmModel('openai/gpt-5-nano'),
  LITELLM_FALLBACK_ENABLED: booleanFlag(true),
  /** Cap of every LLM call's timeout; LITELLM_TIMEOUT is the same in seconds (the Python system's name). Unset: each call's own. */
  LITELLM_TIMEOUT_MS: integer(undefined, 1000, 600_000),
  LITELLM_TIMEOUT: integer(undefined, 1, 600),
};
export const speechEnvShape = {
  ELEVENLABS_API_KEY: secretString(),
  ELEVENLABS_BASE_URL: urlString(),
  CARTESIA_API_KEY: secretString(),
  CARTESIA_BASE_URL: urlString(),
};
export const gptMarketEnvShape = {
  GPTMARKET_API_URL: stringWithDefault('https://www.gptmarket.io/api'),
  GPTMARKET_API_KEY: secretString(),
};
export const transcriptionEnvShape = {
  ...openAiEnvShape,
  ASSEMBLYAI_API_KEY: secretString(),
  ASSEMBLYAI_BASE_URL: urlString(),
};
export const promptEnvShape = {
  /** A directory of prompt templates that override the shipped ones, file by file (read at activity time). */
  PROMPT_PATH: optionalString(),
};

/** Every provider variable at once (the generation worker uses all of them). */
export const providersEnvShape = {
  ...replicateEnvShape,
  ...llmEnvShape,
  ...speechEnvShape,
  ...gptMarketEnvShape,
  ...transcriptionEnvShape,
  ...promptEnvShape,
};
export type ProvidersEnv = z.infer<z.ZodObject<typeof providersEnvShape>>;
export type ReplicateEnv = z.infer<z.ZodObject<typeof replicateEnvShape>>;
export type LlmEnv = z.infer<z.ZodObject<typeof llmEnvShape>>;
export type SpeechEnv = z.infer<z.ZodObject<typeof speechEnvShape>>;
export type GptMarketEnv = z.infer<z.ZodObject<typeof gptMarketEnvShape>>;
export type TranscriptionEnv = z.infer<z.ZodObject<typeof transcriptionEnvShape>>;

type PlanEnv = Pick<
  ProvidersEnv,
  | 'REPLICATE_API_KEY'
  | 'REPLICATE_API_TOKEN'
  | 'OPENAI_API_KEY'
  | 'GEMINI_API_KEY'
  | 'GPTMARKET_API_KEY'
  | 'ELEVENLABS_API_KEY'
  | 'CARTESIA_API_KEY'
  | 'ASSEMBLYAI_API_KEY'
>;

/** The providers this configuration uses for each capability (the worker creates its clients by the same keys). */
export function providerPlan(env: PlanEnv): ProviderPlan {
  const serve = (...candidates: [string, unknown][]) =>
    candidates
      .filter(([, key]) => Boolean(key))
      .map(([name]) => name)
      .join('+') || 'local';
  return {
    image_video: serve(['replicate', env.REPLICATE_API_KEY ?? env.REPLICATE_API_TOKEN]),
    prompts: serve(['openai', env.OPENAI_API_KEY]),
    llm: serve(['gemini', env.GEMINI_API_KEY], ['openai', env.OPENAI_API_KEY]),
    pinterest: serve(['gptmarket', env.GPTMARKET_API_KEY]),
    speech: serve(['elevenlabs', env.ELEVENLABS_API_KEY], ['cartesia', env.CARTESIA_API_KEY]),
    // AssemblyAI wins when both are set; OpenAI is not a fallback for it.
    transcription: env.ASSEMBLYAI_API_KEY ? 'assemblyai' : serve(['openai', env.OPENAI_API_KEY]),
  };
}

/**
 * `ALLOW_OFFLINE_PROVIDERS`: which capabilities may run on the offline provider in production. Unset or
 * `false`: none; `true`: all; or a comma-separated list of capability names (e.g. `pinterest,speech`).
 */
export const offlineAllowance = () =>
  optionalString().transform((v, ctx): ProviderCapability[] => {
    if (v === undefined || ['false', '0', 'no', 'off'].includes(v.toLowerCase())) return [];
    if (['true', '1', 'yes', 'on'].includes(v.toLowerCase())) return [...CAPABILITY_NAMES];
    const names = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = names.filter((n) => !(n in PROVIDER_CAPABILITIES));
    if (unknown.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `expected true, false or capability names (${CAPABILITY_NAMES.join(', ')}), got unknown "${unknown.join(', ')}"`,
      });
      return z.NEVER;
    }
    return names as ProviderCapability[];
  });

/**
 * The capabilities that would run on the offline provider without being allowed to, as one line naming the
 * variables to set (never their values); null when every capability is served or allowed offline.
 */
export function offlineRefusal(plan: ProviderPlan, allowed: readonly ProviderCapability[]): string | null {
  const missing = CAPABILITY_NAMES.filter((c) => plan[c] === 'local' && !allowed.includes(c));
  if (missing.length === 0) return null;
  const needs = missing.map((c) => `${c} (set ${PROVIDER_CAPABILITIES[c].join(' or ')})`).join(', ');
  return (
    `no real provider for ${needs}; in production the offline local provider (placeholder media) serves nothing unless ` +
    `ALLOW_OFFLINE_PROVIDERS=${missing.join(',')} (or true) says so`
  );
}
