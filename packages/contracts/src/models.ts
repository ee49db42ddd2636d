import { z } from 'zod';
import { ASPECT_RATIOS, type AspectRatio } from './common.js';

/**
 * The model catalogue as data: what a caller may ask for and what each model accepts. The payload mapping
 * to each provider lives in @gptmarket/providers; this file holds only the constraints that inputs are
 * validated against before anything is paid for.
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
}

export const MODELS = {
  'nano-banana': {
    id: 'nano-banana',
    name: 'Nano Banana Pro',
    author: 'Google',
    category: 'image',
    description: 'Photorealistic image generation and editing.',
    aspectRatios: ASPECT_RATIOS,
  },
  'hidream-fast': {
    id: 'hidream-fast',
    name: 'HiDream L1 Fast',
    author: 'Pruna AI',
    category: 'image',
    description: 'Fast text-to-image generation.',
    aspectRatios: ASPECT_RATIOS,
  },
  'kling-v2.6': {
    id: 'kling-v2.6',
    name: 'Kling v2.6',
    author: 'Kuaishou',
    category: 'video',
    description: 'Image-to-video with cinematic motion; 5 or 10 second clips.',
    aspectRatios: ['16:9', '9:16', '1:1'],
    durations: [5, 10],
  },
  'seedance-1.5-pro': {
    id: 'seedance-1.5-pro',
    name: 'Seedance 1.5 Pro',
    author: 'ByteDance',
    category: 'video',
    description: 'Image-to-video, 2 to 12 second clips at 24 fps.',
    aspectRatios: ['16:9', '4:3', '1:1', '3:4', '9:16', '21:9', '9:21'],
    durations: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  },
} as const satisfies Record<string, ModelInfo>;

export type ModelId = keyof typeof MODELS;
export const MODEL_IDS = Object.keys(MODELS) as ModelId[];
export const modelsOfCategory = (category: ModelCategory): ModelId[] =>
  MODEL_IDS.filter((id) => MODELS[id].category === category);
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
