/**
 * Each model's Replicate slug and the mapping of its validated params (the model registry in @gptmarket/contracts)
 * to the Replicate payload.
 */
import {
  ModelInputError as InvalidModelParams,
  parseModelParams,
  type MODELS,
  type ModelId,
  type ModelParamsOutput,
} from '@gptmarket/contracts';
import { ModelInputError } from '../errors.js';

export interface PredictionRequest {
  /** Replicate model `owner/name`. */
  model: string;
  input: Record<string, unknown>;
}

type Replicate = { [M in ModelId]: { slug: string; toInput(v: ModelParamsOutput<M>): Record<string, unknown> } };

/** Aspect ratio → HiDream resolution string (with U+00D7 "×", as the model's enum spells it). */
const HIDREAM_RESOLUTIONS: Record<(typeof MODELS)['hidream-fast']['aspectRatios'][number], string> = {
  '1:1': '1024 × 1024 (Square)',
  '9:16': '768 × 1360 (Portrait)',
  '9:21': '768 × 1360 (Portrait)',
  '3:4': '880 × 1168 (Portrait)',
  '2:3': '832 × 1248 (Portrait)',
  '16:9': '1360 × 768 (Landscape)',
  '21:9': '1360 × 768 (Landscape)',
  '4:3': '1168 × 880 (Landscape)',
  '3:2': '1248 × 832 (Landscape)',
};

const REPLICATE: Replicate = {
  'nano-banana': {
    slug: 'google/nano-banana-pro',
    toInput: (v) => {
      const hasImages = (v.image_input?.length ?? 0) > 0;
      return {
        prompt: v.prompt,
        ...(hasImages ? { image_input: v.image_input } : {}),
        // With reference images the model keeps their framing; 9:21 is not offered, its nearest is 9:16.
        aspect_ratio: hasImages ? 'match_input_image' : v.aspect_ratio === '9:21' ? '9:16' : v.aspect_ratio,
        resolution: v.resolution,
        output_format: v.output_format,
        safety_filter_level: v.safety_filter_level,
      };
    },
  },
  'hidream-fast': {
    slug: 'prunaai/hidream-l1-fast',
    toInput: (v) => ({
      prompt: v.prompt,
      model_type: v.model_type,
      speed_mode: v.speed_mode,
      resolution: HIDREAM_RESOLUTIONS[v.aspect_ratio as keyof typeof HIDREAM_RESOLUTIONS],
      seed: v.seed,
      output_format: v.output_format,
      output_quality: v.output_quality,
      negative_prompt: v.negative_prompt,
    }),
  },
  'kling-v2.6': {
    slug: 'kwaivgi/kling-v2.6',
    toInput: (v) => {
      const start = v.start_image ?? v.image;
      return {
        prompt: v.prompt,
        ...(v.negative_prompt?.trim() ? { negative_prompt: v.negative_prompt } : {}),
        ...(start ? { start_image: start } : {}),
        aspect_ratio: v.aspect_ratio,
        duration: v.duration,
        generate_audio: v.generate_audio,
      };
    },
  },
  'seedance-1.5-pro': {
    slug: 'bytedance/seedance-1.5-pro',
    toInput: (v) => ({
      prompt: v.prompt,
      ...(v.image ? { image: v.image } : {}),
      ...(v.last_frame_image ? { last_frame_image: v.last_frame_image } : {}),
      duration: v.duration,
      aspect_ratio: v.aspect_ratio,
      fps: v.fps,
      camera_fixed: v.camera_fixed,
      generate_audio: v.generate_audio,
      ...(v.seed !== undefined ? { seed: v.seed } : {}),
    }),
  },
};

/**
 * Validates `params` against the model's schema (contracts) and maps them to the Replicate payload; keys the model
 * does not know are left out. Throws `ModelInputError` (a non-retryable ProviderError naming the field) for an unknown
 * model, a model of the wrong category or an invalid value.
 */
export function buildPrediction(modelId: string, params: Record<string, unknown>, expectCategory: 'image' | 'video'): PredictionRequest {
  let parsed: ReturnType<typeof parseModelParams>;
  try {
    parsed = parseModelParams(modelId, params, expectCategory);
  } catch (err) {
    if (err instanceof InvalidModelParams) throw new ModelInputError(err.model, err.field, err.reason);
    throw err;
  }
  const mapping = REPLICATE[parsed.model] as { slug: string; toInput(v: Record<string, unknown>): Record<string, unknown> };
  return { model: mapping.slug, input: mapping.toInput(parsed.data) };
}
