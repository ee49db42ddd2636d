/**
 * Activity interfaces of both workers. Workflows call them through `proxyActivities<...>()` with these
 * types, so a workflow never imports a worker's code. Types only: nothing here runs.
 */
import type { WorkerSettings } from './common.js';
import type { MediaProbe, ProbeRequest, RenderPlanInput, RenderResult, StoredMedia } from './render.js';

/** Which provider produced an artefact: `local` (offline), `openai`, `replicate`, ... */
export type ProviderName = string;

/**
 * What one provider call used, as the provider reported it (absent from results of workers from before it was
 * reported): the model that answered, LLM tokens, compute seconds. The workflow adds the step and reports it.
 */
export interface CallUsage {
  provider: ProviderName;
  model: string;
  input_tokens?: number;
  output_tokens?: number;
  predict_time?: number;
}

export interface PersonPromptRequest {
  gender: string;
  age_range: string;
  emotion: string;
  style: string;
  background: string;
  hair_color: string;
  ethnicity: string;
  clothing: string;
  context: string | null;
}
export interface PersonPromptResult {
  json_prompt: Record<string, unknown>;
  text_prompt: string;
  provider: ProviderName;
  usage?: CallUsage;
}

export interface ReactionPromptRequest {
  emotion: string;
  context: string | null;
  duration: number;
}
export interface ReactionPromptResult {
  movements: string[];
  video_prompt: string;
  provider: ProviderName;
  usage?: CallUsage;
}

export interface ImageRequest {
  model: string;
  /** The model's input (prompt, aspect_ratio, ...), merged with the caller's validated model params. */
  params: Record<string, unknown>;
  /** Storage folder the result is saved under. */
  folder: string;
}
export interface VideoRequest extends ImageRequest {}

export interface GeneratedMedia extends StoredMedia {
  provider: ProviderName;
  model: string;
  usage?: CallUsage;
}

export interface SaveJsonRequest {
  folder: string;
  name: string;
  data: unknown;
}

export interface GenerationActivities {
  /**
   * Local activity: checks `secret_key` (raw secret or this workflow's token) against the worker's configuration,
   * and answers the worker's settings the workflow needs (histories from before it answered hold no result).
   */
  verifyWorkflowAuth(secretKey: string | null): Promise<WorkerSettings | undefined>;
  generatePersonPrompt(req: PersonPromptRequest): Promise<PersonPromptResult>;
  generateReactionPrompt(req: ReactionPromptRequest): Promise<ReactionPromptResult>;
  generateImage(req: ImageRequest): Promise<GeneratedMedia>;
  generateVideo(req: VideoRequest): Promise<GeneratedMedia>;
  /** Saves a JSON document (e.g. a generation's provenance manifest) to storage. */
  saveJson(req: SaveJsonRequest): Promise<StoredMedia>;
  /** One LLM call with a prompt template, asking for JSON (Gemini → OpenAI fallback → offline LLM). */
  generateJson(req: GenerateJsonRequest): Promise<GenerateJsonResult>;
  /** One Pinterest search (GPTMarket scraper or the offline scraper). Errors are raised, never returned as data. */
  scrapePinterest(req: ScrapePinterestRequest): Promise<ScrapePinterestResult>;
  /** Re-hosts a remote image/audio/video in our storage (guarded download; ours → copy; `local://` → rendered). */
  rehostMedia(req: RehostRequest): Promise<StoredMedia>;
  /** Text → speech (ElevenLabs, Cartesia or the offline voice), stored. */
  synthesizeSpeech(req: SpeechRequest): Promise<SpeechResult>;
  /** Transcribes an audio file in our storage and stores the transcript as text. */
  transcribeAudio(req: TranscribeRequest): Promise<TranscribeResult>;
  /** Summarises a stored transcript with the `transcript-summary` template and stores the summary. */
  summarizeTranscript(req: SummarizeRequest): Promise<SummarizeResult>;
}

export interface MediaActivities {
  /** Renders one output from a plan with one FFmpeg encode and uploads it. */
  renderVideo(plan: RenderPlanInput): Promise<RenderResult>;
  /** ffprobe of a media URL (our storage or an allowed host): duration, size, codecs, audio presence. */
  probeMedia(req: ProbeRequest): Promise<MediaProbe>;
  /** Extracts the audio track of a media URL (our storage or a guarded download) as AAC in .m4a (or WAV). */
  extractAudio(req: ExtractAudioRequest): Promise<StoredMedia>;
}

export interface GenerateJsonRequest {
  /** Prompt template name (packages/providers/prompts/<name>.md). */
  template: string;
  vars: Record<string, string | number | null>;
  model?: string;
  temperature?: number;
  maxTokens?: number;
}
export interface GenerateJsonResult {
  /** The parsed JSON answer, or null when the model's answer was not JSON. */
  parsed: unknown;
  model: string;
  provider: ProviderName;
  fallback_used: boolean;
  template_version: string;
}

export interface ScrapePinterestRequest {
  search_query: string;
  pages: number;
}
/** A scraped pin (packages/providers/src/gptmarket). */
export interface ScrapedPin {
  id: string;
  title?: string | null;
  description?: string | null;
  image_url: string;
  aspect_ratio?: string;
  image_width?: number | null;
  image_height?: number | null;
}
export interface ScrapePinterestResult {
  pins: ScrapedPin[];
  total: number;
  query: string;
  provider: ProviderName;
}

export interface RehostRequest {
  url: string;
  folder: string;
  /** Accepted kind of media. */
  kind: 'image' | 'audio' | 'video';
}

export interface SpeechRequest {
  text: string;
  provider: 'elevenlabs' | 'cartesia' | 'local' | null;
  voice_id: string | null;
  model_id: string | null;
  stability: number;
  similarity_boost: number;
  speed: number;
  language: string;
  folder: string;
}
export interface SpeechResult extends StoredMedia {
  provider: ProviderName;
  /** Exact for WAV; null when the container does not say it cheaply (probe it). */
  duration_seconds: number | null;
}

export interface TranscribeRequest {
  /** Audio in our storage. */
  audio_url: string;
  folder: string;
}
export interface TranscribeResult {
  transcript: StoredMedia;
  chars: number;
  provider: ProviderName;
}

export interface SummarizeRequest {
  transcript_url: string;
  meeting_date: string;
  folder: string;
}
export interface SummarizeResult {
  summary_file: StoredMedia;
  summary: string;
  provider: ProviderName;
  model: string;
}

export interface ExtractAudioRequest {
  input_url: string;
  /** `m4a` (AAC, default) or `wav` (PCM 16-bit). */
  format?: 'm4a' | 'wav';
  output: { folder: string };
}
