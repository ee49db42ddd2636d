/** What the generation worker's activities are given (worker.ts creates it once per process; tests pass their own). */
import type { WorkerSettings } from '@gptmarket/contracts';
import type { OutboundPolicy, SecretConfig } from '@gptmarket/runtime';
import type { Storage } from '@gptmarket/storage';
import type { GptMarketClient, LlmClient, ReplicateClient, SpeechClient, Transcriber } from '@gptmarket/providers';

export interface GenerationActivityDeps {
  storage: Storage;
  secrets: SecretConfig;
  /** Provider clients, created once per process (worker.ts). Absent: everything runs on the offline local provider. */
  providers?: (PaidProviders & ContentProviders) | undefined;
  /** What workflows learn at their start (media queue, media wait); the defaults when absent. */
  settings?: WorkerSettings | undefined;
}

/** What the paid image/video activities need: the Replicate client (null → local provider) and the re-hosting policy. */
export interface PaidProviders {
  replicate: ReplicateClient | null;
  /** Outbound policy for downloading provider outputs (the operator's allow-list). */
  downloadPolicy: OutboundPolicy;
  /** Poll interval while a prediction runs. */
  pollMs: number;
  /** Largest output we re-host. */
  maxOutputBytes: number;
  /** Deadline of one output download. */
  downloadTimeoutMs?: number;
  /** The Ruby prompt LLM (OpenAI direct, as the Python system called it); null → the offline local prompt functions. */
  promptLlm?: LlmClient | null;
  /** Operator's template directory (PROMPT_PATH), read at activity time. */
  promptPath?: string | undefined;
}

/**
 * The provider clients of the Pinterest, voice and transcript activities. Each one absent (or null) → that
 * activity runs on the offline local provider.
 */
export interface ContentProviders {
  /** Outbound policy for remote media (private addresses refused unless allowed). */
  downloadPolicy?: OutboundPolicy | undefined;
  /** Gemini primary, OpenAI fallback (packages/providers/src/llm): Pinterest queries and transcript summaries. */
  llm?: LlmClient | null | undefined;
  /** Operator's template directory (PROMPT_PATH). */
  promptPath?: string | undefined;
  /** The GPTMarket Pinterest scraper; null → the offline scraper. */
  gptmarket?: GptMarketClient | null | undefined;
  speech?: SpeechClient | null | undefined;
  transcriber?: Transcriber | null | undefined;
}
export interface ContentActivityDeps {
  storage: Storage;
  providers?: ContentProviders | undefined;
}
