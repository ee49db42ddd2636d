import { z } from 'zod';
import { ASPECT_RATIOS, ModelParams, type AspectRatio } from './common.js';

/**
 * The model registry, as data: each model a caller may ask for, its aspect ratios and durations, and its params as a
 * zod schema whose keys are the model's provider inputs (plus Kling's `image` alias). `checkModelRequest` is the one
 * check the gateway and the workflows share; the mapping to each provider's payload lives in @gptmarket/providers
 * (`buildPrediction`, which validates through `parseModelParams` here). As in the Python system, a key a model does
 * not know is dropped (here with a warning for the caller) while a known key with a wrong type or value is an error
 * naming it; `null` means "unset".
 */
export const MODEL_CATEGORIES = ['image', 'video', 'audio', 'text'] as const;
export type ModelCategory = (typeof MODEL_CATEGORIES)[number];

export interface ModelInfo {
  readonly id: string;
  readonly name: string;
  readonly author: string;
  readonly category: ModelCategory;
  readonly description: string;
  /** Aspect ratios the caller may pass (some are mapped to the nearest supported one by the provider). */
  readonly aspectRatios: readonly AspectRatio[];
  /** Allowed clip lengths in seconds, for video models. */
  readonly durations?: readonly number[];
  /** The model's params: a strict object, its keys are the parameters the model knows. */
  readonly params: z.ZodObject;
}

const prompt = z.string().trim().min(1, 'is required').max(10_000);
const negativePrompt = z.string().max(10_000).describe('What the result should not show.');
const mediaUrl = z
  .string()
  .max(4096)
  .refine((u) => /^https?:\/\/\S+$/.test(u) || /^data:[\w.+-]+\/[\w.+-]+;base64,/.test(u), {
    message: 'must be an http(s) URL or a data URI',
  })
  .describe('An http(s) URL or a base64 data URI.');
/** One of `allowed` (an enum in the JSON Schema), with an error message listing them. */
const oneOf = <T extends string>(allowed: readonly T[], fallback: NoInfer<T>) =>
  z
    .string()
    .refine((v) => (allowed as readonly string[]).includes(v), { message: `must be one of ${allowed.join(', ')}` })
    .meta({ enum: [...allowed] })
    .default(fallback);
/** A clip length in seconds from `allowed` (an enum in the JSON Schema). */
const seconds = (allowed: readonly number[], message: string, fallback: number) =>
  z
    .number()
    .refine((d) => allowed.includes(d), { message })
    .meta({ enum: [...allowed] })
    .default(fallback);
const generateAudio = z.boolean().default(false).describe('Let the model make a soundtrack for the clip.');

export const NANO_BANANA_SAFETY = ['block_low_and_above', 'block_medium_and_above', 'block_only_high'] as const;
export const HIDREAM_SPEED_MODES = [
  'Unsqueezed 🍋 (highest quality)',
  'Lightly Juiced 🍊 (more consistent)',
  'Juiced 🔥 (more speed)',
  'Extra Juiced 🚀 (even more speed)',
] as const;
/** HiDream takes every aspect ratio (the provider maps each to one of the model's resolutions). */
const HIDREAM_ASPECT_RATIOS = ['1:1', '9:16', '9:21', '3:4', '2:3', '16:9', '21:9', '4:3', '3:2'] as const satisfies readonly AspectRatio[];
const KLING_ASPECT_RATIOS = ['16:9', '9:16', '1:1'] as const satisfies readonly AspectRatio[];
const KLING_DURATIONS = [5, 10] as const;
const SEEDANCE_ASPECT_RATIOS = ['16:9', '4:3', '1:1', '3:4', '9:16', '21:9', '9:21'] as const satisfies readonly AspectRatio[];
const SEEDANCE_DURATIONS = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] as const;

export const MODELS = {
  'nano-banana': {
    id: 'nano-banana',
    name: 'Nano Banana Pro',
    author: 'Google',
    category: 'image',
    description: 'Photorealistic image generation and editing.',
    aspectRatios: ASPECT_RATIOS,
    params: z.strictObject({
      prompt,
      image_input: z
        .array(mediaUrl)
        .max(14, 'at most 14 images')
        .optional()
        .describe('Reference images (up to 14); with them the result keeps their framing.'),
      aspect_ratio: oneOf(ASPECT_RATIOS, '1:1'),
      resolution: z.enum(['1K', '2K', '4K']).default('2K'),
      output_format: z.enum(['jpg', 'png']).default('jpg'),
      safety_filter_level: z.enum(NANO_BANANA_SAFETY).default('block_only_high'),
    }),
  },
  'hidream-fast': {
    id: 'hidream-fast',
    name: 'HiDream L1 Fast',
    author: 'Pruna AI',
    category: 'image',
    description: 'Fast text-to-image generation.',
    aspectRatios: HIDREAM_ASPECT_RATIOS,
    params: z.strictObject({
      prompt,
      model_type: z.literal('fast', { message: 'must be "fast"' }).default('fast'),
      speed_mode: z.enum(HIDREAM_SPEED_MODES).default('Extra Juiced 🚀 (even more speed)'),
      aspect_ratio: oneOf(HIDREAM_ASPECT_RATIOS, '1:1'),
      seed: z
        .number()
        .int()
        .min(-1)
        .max(2 ** 32 - 1)
        .default(-1)
        .describe('-1 picks a random seed.'),
      output_format: z.enum(['webp', 'jpg', 'png']).default('webp'),
      output_quality: z.number().int().min(1).max(100).default(100),
      negative_prompt: negativePrompt.default(''),
    }),
  },
  'kling-v2.6': {
    id: 'kling-v2.6',
    name: 'Kling v2.6',
    author: 'Kuaishou',
    category: 'video',
    description: 'Image-to-video with cinematic motion; 5 or 10 second clips.',
    aspectRatios: KLING_ASPECT_RATIOS,
    durations: KLING_DURATIONS,
    params: z
      .strictObject({
        prompt,
        negative_prompt: negativePrompt.optional(),
        start_image: mediaUrl.optional(),
        /** Alias of start_image (what the workflows pass). */
        image: mediaUrl.optional(),
        aspect_ratio: oneOf(KLING_ASPECT_RATIOS, '16:9'),
        duration: seconds(KLING_DURATIONS, `must be ${KLING_DURATIONS.join(' or ')} (seconds)`, 5),
        generate_audio: generateAudio,
      })
      .refine((v) => !(v.start_image && v.image && v.start_image !== v.image), {
        message: 'give the start image once (start_image or image), it is set by the workflow',
        path: ['start_image'],
      }),
  },
  'seedance-1.5-pro': {
    id: 'seedance-1.5-pro',
    name: 'Seedance 1.5 Pro',
    author: 'ByteDance',
    category: 'video',
    description: 'Image-to-video, 2 to 12 second clips at 24 fps.',
    aspectRatios: SEEDANCE_ASPECT_RATIOS,
    durations: SEEDANCE_DURATIONS,
    params: z.strictObject({
      prompt,
      image: mediaUrl.optional(),
      last_frame_image: mediaUrl.optional().describe('The frame the clip ends on.'),
      duration: seconds(
        SEEDANCE_DURATIONS,
        `must be a whole number of seconds from ${SEEDANCE_DURATIONS[0]} to ${SEEDANCE_DURATIONS.at(-1)}`,
        5,
      ),
      aspect_ratio: oneOf(SEEDANCE_ASPECT_RATIOS, '16:9'),
      fps: z.literal(24, { message: 'must be 24 (the only frame rate the model supports)' }).default(24),
      camera_fixed: z.boolean().default(false).describe('Keep the camera still.'),
      generate_audio: generateAudio,
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 32 - 1)
        .optional(),
    }),
  },
} as const satisfies Record<string, ModelInfo>;

export type ModelId = keyof typeof MODELS;
/** What a caller may put in a model's params (defaulted keys optional), e.g. `ModelParamsInput<'hidream-fast'>`. */
export type ModelParamsInput<M extends ModelId> = z.input<(typeof MODELS)[M]['params']>;
/** A model's params after validation, defaults filled in: what a provider maps to its payload. */
export type ModelParamsOutput<M extends ModelId> = z.output<(typeof MODELS)[M]['params']>;

export const MODEL_IDS = Object.keys(MODELS) as ModelId[];
export const modelsOfCategory = (category: ModelCategory): ModelId[] => MODEL_IDS.filter((id) => MODELS[id].category === category);
export const getModel = (id: string): ModelInfo | undefined =>
  Object.hasOwn(MODELS, id) ? (MODELS as Record<string, ModelInfo>)[id] : undefined;

/** A model id of the given category, with an error message that lists the valid choices. */
export const modelIdOf = (category: ModelCategory) => {
  const ids = modelsOfCategory(category);
  return z.string().refine((id) => getModel(id)?.category === category, {
    message: `must be one of the ${category} models: ${ids.join(', ')}`,
  });
};

/** A model request a workflow will make: validated up front, before anything is paid for. */
export interface ModelRequest {
  model: string;
  category: 'image' | 'video';
  params: Record<string, unknown>;
  /** The input field holding the caller's params for this model (for error paths and warnings). */
  params_field?: string;
}

/**
 * A model's params that do not satisfy its schema (or an unknown model, or one of the wrong category): found before
 * anything is paid for. `field` names the failing param; the gateway answers 400 with it in the path, a workflow fails
 * with InvalidInputError.
 */
export class ModelInputError extends Error {
  override name = 'ModelInputError';
  readonly model: string;
  readonly field: string | undefined;
  /** The message without the model and field. */
  readonly reason: string;
  constructor(model: string, field: string | undefined, reason: string) {
    super(`${model}: ${field ? `${field}: ` : ''}${reason}`);
    this.model = model;
    this.field = field;
    this.reason = reason;
  }
}

/**
 * Validates a model's params: the model exists and is of the expected category, keys it does not know are set aside
 * (returned in `ignored`, never sent), the known ones are validated and defaulted. Throws `ModelInputError`.
 */
export function parseModelParams(
  modelId: string,
  params: Record<string, unknown>,
  expectCategory: 'image' | 'video',
): { model: ModelId; data: Record<string, unknown>; ignored: string[] } {
  const model = getModel(modelId);
  if (!model) throw new ModelInputError(modelId, undefined, `unknown model (known: ${MODEL_IDS.join(', ')})`);
  if (model.category !== expectCategory) {
    throw new ModelInputError(modelId, undefined, `is a ${model.category} model and cannot be used for ${expectCategory}`);
  }
  const known = model.params.shape;
  const cleaned: Record<string, unknown> = {};
  const ignored: string[] = [];
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v === null || v === undefined) continue;
    if (Object.hasOwn(known, k)) cleaned[k] = v;
    else ignored.push(k);
  }
  const parsed = model.params.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelInputError(modelId, issue.path.map(String).join('.') || undefined, issue.message);
  }
  return { model: modelId as ModelId, data: parsed.data as Record<string, unknown>, ignored };
}

/**
 * Checks a request a workflow will make, as the provider will: throws `ModelInputError` when it would fail, and
 * returns one warning per parameter the model does not know (the Python system dropped those silently). Pure: the
 * gateway runs it before starting a workflow, workflow code before the first paid call.
 */
export function checkModelRequest(request: ModelRequest): string[] {
  const { ignored } = parseModelParams(request.model, request.params, request.category);
  const field = request.params_field ?? 'params';
  return ignored.map((key) => `${field}.${key} was ignored: ${request.model} has no such parameter`);
}

interface ModelParamsFieldInfo {
  category: 'image' | 'video';
  /** The input field naming the model these params are for. */
  modelField: string;
  /** Params the workflow sets itself (a caller's value is replaced or refused): left out of the documentation. */
  setByWorkflow: readonly string[];
}
const MODEL_PARAMS_FIELDS = new Map<unknown, ModelParamsFieldInfo>();

/**
 * A workflow input field with the caller's params for the model chosen in `modelField`. On the wire it stays a flat
 * object (ModelParams, as Python clients send it), checked against the chosen model's schema when the generation
 * starts; its JSON Schema (`inputJsonSchema`) also lists each model's params, titled with the model id.
 */
export function modelParamsField(info: ModelParamsFieldInfo) {
  const field = ModelParams.meta({
    description: `Parameters of the ${info.category} model chosen in ${info.modelField} (one schema per model below, titled with its id). Keys the model does not know are dropped with a warning; null means unset.`,
  });
  MODEL_PARAMS_FIELDS.set(field, info);
  return field;
}

/** JSON Schema targets the gateway and the SDK use. */
export type JsonSchemaTarget = 'draft-7' | 'draft-2020-12' | 'openapi-3.0';

/** The params a caller may give a model, as documentation: every key optional and nullable, those the workflow sets left out. */
function modelParamsJsonSchema(id: ModelId, setByWorkflow: readonly string[], target: JsonSchemaTarget): Record<string, unknown> {
  const model = MODELS[id];
  const shape = Object.entries(model.params.shape as Record<string, z.ZodType>)
    .filter(([key]) => !setByWorkflow.includes(key))
    .map(([key, schema]) => [key, schema.nullable().optional()] as const);
  const { $schema: _ignored, ...json } = z.toJSONSchema(z.object(Object.fromEntries(shape)), {
    target,
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return { title: id, description: `${model.name} (${model.author}): ${model.description}`, ...json };
}

/**
 * The JSON Schema of a workflow input as a caller sends it (`io: 'input'`: defaulted fields are optional). A model
 * params field (`modelParamsField`) carries `x-model-field` (the field naming the model) and `anyOf` the params of
 * each model of its category, titled with the model id: what the gateway's catalogue, its OpenAPI document and the
 * SDK's form registry show.
 */
export function inputJsonSchema(schema: z.ZodType, target: JsonSchemaTarget = 'draft-2020-12'): Record<string, unknown> {
  return z.toJSONSchema(schema, {
    target,
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      const info = MODEL_PARAMS_FIELDS.get(ctx.zodSchema);
      if (!info) return;
      ctx.jsonSchema['x-model-field'] = info.modelField;
      ctx.jsonSchema.anyOf = modelsOfCategory(info.category).map((id) => modelParamsJsonSchema(id, info.setByWorkflow, target));
    },
  }) as Record<string, unknown>;
}
