import { z } from 'zod';
import { booleanFlag, integer, optionalString, secretString, stringWithDefault, urlString } from '../env.js';

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
  LITELLM_PRIMARY_MODEL: stringWithDefault('gemini/gemini-2.0-flash'),
  LITELLM_FALLBACK_MODEL: stringWithDefault('openai/gpt-5-nano'),
  LITELLM_FALLBACK_ENABLED: booleanFlag(true),
  LITELLM_TIMEOUT_MS: integer(120_000, 1000, 600_000),
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
const providersEnv = z.object(providersEnvShape);
export type ProvidersEnv = z.infer<typeof providersEnv>;
export type ReplicateEnv = z.infer<z.ZodObject<typeof replicateEnvShape>>;
export type LlmEnv = z.infer<z.ZodObject<typeof llmEnvShape>>;
export type SpeechEnv = z.infer<z.ZodObject<typeof speechEnvShape>>;
export type GptMarketEnv = z.infer<z.ZodObject<typeof gptMarketEnvShape>>;
export type TranscriptionEnv = z.infer<z.ZodObject<typeof transcriptionEnvShape>>;

/** Parses provider env from a plain object (tests, scripts): unset keys fall back to defaults. */
export const parseProvidersEnv = (source: Record<string, string | undefined>): ProvidersEnv => providersEnv.parse(source);
