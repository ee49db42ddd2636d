/**
 * The model registry: each model's input schema (validated before any paid call) and its mapping to the
 * Replicate payload (as the Python system built it). Unknown keys are errors, not silently dropped; `null` means "unset".
 */
import { z } from 'zod';
import { ASPECT_RATIOS, getModel, MODELS, type ModelCategory } from '@gptmarket/contracts';
import { ModelInputError } from '../errors.js';

export interface PredictionRequest {
  /** Replicate model `owner/name`. */
  model: string;
  input: Record<string, unknown>;
}

interface ModelSpec<S extends z.ZodType> {
  id: string;
  replicate: string;
  category: ModelCategory;
  schema: S;
  toInput(v: z.infer<S>): Record<string, unknown>;
}
const spec = <S extends z.ZodType>(s: ModelSpec<S>) => s as unknown as ModelSpec<z.ZodType>;

const prompt = z.string().trim().min(1, 'is required').max(10_000);
const mediaUrl = z
  .string()
  .max(4096)
  .refine((u) => /^https?:\/\/\S+$/.test(u) || /^data:[\w.+-]+\/[\w.+-]+;base64,/.test(u), { message: 'must be an http(s) URL or a data URI' });
const aspect = (allowed: readonly string[], fallback: string) =>
  z
    .string()
    .refine((v) => allowed.includes(v), { message: `must be one of ${allowed.join(', ')}` })
    .default(fallback);

export const NANO_BANANA_SAFETY = ['block_low_and_above', 'block_medium_and_above', 'block_only_high'] as const;
const nanoBanana = spec({
  id: 'nano-banana',
  replicate: 'google/nano-banana-pro',
  category: 'image',
  schema: z.strictObject({
    prompt,
    image_input: z.array(mediaUrl).max(14, 'at most 14 images').optional(),
    aspect_ratio: aspect(ASPECT_RATIOS, '1:1'),
    resolution: z.enum(['1K', '2K', '4K']).default('2K'),
    output_format: z.enum(['jpg', 'png']).default('jpg'),
    safety_filter_level: z.enum(NANO_BANANA_SAFETY).default('block_only_high'),
  }),
  toInput: (v: {
    prompt: string;
    image_input?: string[] | undefined;
    aspect_ratio: string;
    resolution: string;
    output_format: string;
    safety_filter_level: string;
  }) => {
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
});

export const HIDREAM_SPEED_MODES = [
  'Unsqueezed 🍋 (highest quality)',
  'Lightly Juiced 🍊 (more consistent)',
  'Juiced 🔥 (more speed)',
  'Extra Juiced 🚀 (even more speed)',
] as const;
/** Aspect ratio → HiDream resolution string (with U+00D7 "×", as the model's enum spells it). */
export const HIDREAM_RESOLUTIONS: Record<string, string> = {
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
const hidream = spec({
  id: 'hidream-fast',
  replicate: 'prunaai/hidream-l1-fast',
  category: 'image',
  schema: z.strictObject({
    prompt,
    speed_mode: z.enum(HIDREAM_SPEED_MODES).default('Extra Juiced 🚀 (even more speed)'),
    aspect_ratio: aspect(Object.keys(HIDREAM_RESOLUTIONS), '1:1'),
    seed: z.number().int().min(-1).max(2 ** 32 - 1).default(-1),
    output_format: z.enum(['webp', 'jpg', 'png']).default('webp'),
    output_quality: z.number().int().min(1).max(100).default(100),
    negative_prompt: z.string().max(10_000).default(''),
  }),
  toInput: (v: { prompt: string; speed_mode: string; aspect_ratio: string; seed: number; output_format: string; output_quality: number; negative_prompt: string }) => ({
    prompt: v.prompt,
    model_type: 'fast',
    speed_mode: v.speed_mode,
    resolution: HIDREAM_RESOLUTIONS[v.aspect_ratio],
    seed: v.seed,
    output_format: v.output_format,
    output_quality: v.output_quality,
    negative_prompt: v.negative_prompt,
  }),
});

const kling = spec({
  id: 'kling-v2.6',
  replicate: 'kwaivgi/kling-v2.6',
  category: 'video',
  schema: z
    .strictObject({
      prompt,
      negative_prompt: z.string().max(10_000).optional(),
      start_image: mediaUrl.optional(),
      /** Alias of start_image (what the workflows pass). */
      image: mediaUrl.optional(),
      aspect_ratio: aspect(MODELS['kling-v2.6'].aspectRatios, '16:9'),
      duration: z.number().refine((d) => (MODELS['kling-v2.6'].durations as readonly number[]).includes(d), { message: `must be ${MODELS['kling-v2.6'].durations.join(' or ')} (seconds)` }).default(5),
      generate_audio: z.boolean().default(false),
    })
    .refine((v) => !(v.start_image && v.image && v.start_image !== v.image), {
      message: 'give the start image once (start_image or image), it is set by the workflow',
      path: ['start_image'],
    }),
  toInput: (v: { prompt: string; negative_prompt?: string | undefined; start_image?: string | undefined; image?: string | undefined; aspect_ratio: string; duration: number; generate_audio: boolean }) => {
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
});

const seedance = spec({
  id: 'seedance-1.5-pro',
  replicate: 'bytedance/seedance-1.5-pro',
  category: 'video',
  schema: z.strictObject({
    prompt,
    image: mediaUrl.optional(),
    last_frame_image: mediaUrl.optional(),
    duration: z.number().refine((d) => (MODELS['seedance-1.5-pro'].durations as readonly number[]).includes(d), { message: `must be a whole number of seconds from ${MODELS['seedance-1.5-pro'].durations[0]} to ${MODELS['seedance-1.5-pro'].durations.at(-1)}` }).default(5),
    aspect_ratio: aspect(MODELS['seedance-1.5-pro'].aspectRatios, '16:9'),
    fps: z.literal(24, { message: 'must be 24 (the only frame rate the model supports)' }).default(24),
    camera_fixed: z.boolean().default(false),
    generate_audio: z.boolean().default(false),
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
  }),
  toInput: (v: { prompt: string; image?: string | undefined; last_frame_image?: string | undefined; duration: number; aspect_ratio: string; fps: number; camera_fixed: boolean; generate_audio: boolean; seed?: number | undefined }) => ({
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
});

const REGISTRY: Record<string, ModelSpec<z.ZodType>> = {
  [nanoBanana.id]: nanoBanana,
  [hidream.id]: hidream,
  [kling.id]: kling,
  [seedance.id]: seedance,
};

export const REGISTERED_MODELS = Object.keys(REGISTRY);

/** The Replicate slug of a model id, or undefined. */
export const replicateSlug = (modelId: string): string | undefined => (Object.hasOwn(REGISTRY, modelId) ? REGISTRY[modelId]?.replicate : undefined);

/**
 * Validates `params` against the model's schema and maps them to the provider payload. Throws
 * `ModelInputError` (non-retryable, naming the field) for an unknown model, a model of the wrong category,
 * unknown keys or invalid values. `null` values count as unset.
 */
export function buildPrediction(modelId: string, params: Record<string, unknown>, expectCategory: 'image' | 'video'): PredictionRequest {
  const model = Object.hasOwn(REGISTRY, modelId) ? REGISTRY[modelId] : undefined;
  if (!model) throw new ModelInputError(modelId, undefined, `unknown model (known: ${REGISTERED_MODELS.join(', ')})`);
  const info = getModel(modelId);
  const category = info?.category ?? model.category;
  if (category !== expectCategory) {
    throw new ModelInputError(modelId, undefined, `is a ${category} model and cannot be used for ${expectCategory}`);
  }
  const cleaned: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params ?? {})) if (v !== null && v !== undefined) cleaned[k] = v;
  const parsed = model.schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys: string[] }).keys;
      throw new ModelInputError(modelId, keys[0], `unknown parameter${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`);
    }
    const field = issue.path.map(String).join('.') || undefined;
    throw new ModelInputError(modelId, field, issue.message);
  }
  return { model: model.replicate, input: model.toInput(parsed.data) };
}
