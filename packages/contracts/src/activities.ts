/**
 * Activity interfaces of both workers. Workflows call them through `proxyActivities<...>()` with these
 * types, so a workflow never imports a worker's code. Types only: nothing here runs.
 */
import type { MediaProbe, ProbeRequest, RenderPlanInput, RenderResult, StoredMedia } from './render.js';

/** Which provider produced an artefact: `local` (offline), `openai`, `replicate`, ... */
export type ProviderName = string;

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
}

export interface CopyRequest {
  url: string;
  folder: string;
}

export interface SaveJsonRequest {
  folder: string;
  name: string;
  data: unknown;
}

export interface GenerationActivities {
  /** Local activity: checks `secret_key` (raw secret or this workflow's token) against the worker's configuration. */
  verifyWorkflowAuth(secretKey: string | null): Promise<void>;
  generatePersonPrompt(req: PersonPromptRequest): Promise<PersonPromptResult>;
  generateReactionPrompt(req: ReactionPromptRequest): Promise<ReactionPromptResult>;
  generateImage(req: ImageRequest): Promise<GeneratedMedia>;
  generateVideo(req: VideoRequest): Promise<GeneratedMedia>;
  /** Copies an object already in our storage to another folder (same content type). */
  copyStoredMedia(req: CopyRequest): Promise<StoredMedia>;
  /** Saves a JSON document (e.g. a generation's provenance manifest) to storage. */
  saveJson(req: SaveJsonRequest): Promise<StoredMedia>;
}

export interface MediaActivities {
  /** Renders one output from a plan with one FFmpeg encode and uploads it. */
  renderVideo(plan: RenderPlanInput): Promise<RenderResult>;
  /** ffprobe of a media URL (our storage or an allowed host): duration, size, codecs, audio presence. */
  probeMedia(req: ProbeRequest): Promise<MediaProbe>;
}
