import { z } from 'zod';
import { BaseGenerationRequest, WorkflowCredential, boundedText, type StepDefinition } from '../common.js';

export const VOICEOVER_WORKFLOW = 'VoiceoverWorkflow';

export const VOICEOVER_TEXT_MAX = 5000;
export const SPEECH_PROVIDERS = ['elevenlabs', 'cartesia', 'local'] as const;
export const SpeechProviderName = z.enum(SPEECH_PROVIDERS);
export type SpeechProviderName = z.infer<typeof SpeechProviderName>;

const providerId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, _ . or -');

/** What a caller asks for (the HTTP API's `input`). */
export const VoiceoverRequest = BaseGenerationRequest.extend({
  /** What to say. */
  text: boundedText(VOICEOVER_TEXT_MAX).refine((s) => s.trim().length > 0, { message: 'must not be empty' }),
  /** Speech provider; null picks the configured one (ElevenLabs, then Cartesia, then the offline voice). */
  provider: SpeechProviderName.nullable().default(null),
  /** Provider voice id; null uses the provider's default voice. */
  voice_id: providerId.nullable().default(null),
  /** Provider model id (e.g. `eleven_multilingual_v2`, `sonic-2`); null uses the provider's default. */
  model_id: providerId.nullable().default(null),
  stability: z.number().min(0).max(1).default(0.5),
  similarity_boost: z.number().min(0).max(1).default(0.75),
  speed: z.number().min(0.7).max(1.2).default(1),
  /** ISO 639-1 language code. */
  language: z
    .string()
    .regex(/^[a-z]{2}$/, 'must be a two-letter language code')
    .default('en'),
  /** A video to put the speech under (http/https; ours or fetched through the guarded downloader). */
  video_url: z
    .url({ protocol: /^https?$/ })
    .max(4096)
    .nullable()
    .default(null),
  /** `replace`: the video's audio becomes the speech. `mix`: the speech plays over the video's own audio. */
  mix_mode: z.enum(['replace', 'mix']).default('replace'),
  /** Gain of the speech in the video, 0–2. */
  voice_volume: z.number().min(0).max(2).default(1),
});
/** What the workflow receives: the request and its credential. */
export const VoiceoverInput = VoiceoverRequest.extend(WorkflowCredential);
export type VoiceoverInput = z.infer<typeof VoiceoverInput>;

export const VoiceoverOutput = z.object({
  /** The speech, in our storage (mp3 or wav). */
  audio_url: z.string(),
  audio_content_type: z.string(),
  audio_duration_seconds: z.number().nullable(),
  /** The video with the speech as its audio; null when no `video_url` was given. */
  video_url: z.string().nullable(),
  /** A JPEG frame and a short animated GIF of that video, when there is one. */
  video_poster_url: z.string().optional(),
  video_preview_url: z.string().optional(),
  provider: z.string(),
  warnings: z.array(z.string()),
});
export type VoiceoverOutput = z.infer<typeof VoiceoverOutput>;

export const VOICEOVER_STEPS = {
  synthesize: { id: 'synthesize', name: 'Generate Speech', pct: 10 },
  mix: { id: 'mix', name: 'Mix Audio', pct: 50 },
  upload: { id: 'upload', name: 'Upload', pct: 90 },
} as const satisfies Record<string, StepDefinition>;
