import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  GENERATION_TYPES,
  MODELS,
  MODEL_IDS,
  ModelInputError,
  RubyInput,
  checkModelRequest,
  inputJsonSchema,
  modelsOfCategory,
  parseModelParams,
  rubyModelRequests,
  type ModelParamsInput,
} from '../src/index.js';

describe('the model registry', () => {
  it("holds each model's params as a strict schema of the keys the model knows", () => {
    expect(MODEL_IDS).toEqual(['nano-banana', 'hidream-fast', 'kling-v2.6', 'seedance-1.5-pro']);
    for (const id of MODEL_IDS) expect(Object.keys(MODELS[id].params.shape), id).toContain('prompt');
    expect(Object.keys(MODELS['kling-v2.6'].params.shape)).toEqual([
      'prompt',
      'negative_prompt',
      'start_image',
      'image',
      'aspect_ratio',
      'duration',
      'generate_audio',
    ]);
    // The allowed aspect ratios and durations of the params are the model's.
    for (const id of MODEL_IDS) {
      const { aspectRatios } = MODELS[id];
      for (const ar of aspectRatios)
        expect(
          () => parseModelParams(id, { prompt: 'p', aspect_ratio: ar }, MODELS[id].category as 'image' | 'video'),
          `${id} ${ar}`,
        ).not.toThrow();
    }
    expect(() => parseModelParams('seedance-1.5-pro', { prompt: 'p', duration: 12 }, 'video')).not.toThrow();
    expectTypeOf<ModelParamsInput<'hidream-fast'>['seed']>().toEqualTypeOf<number | undefined>();
  });

  it('parseModelParams defaults known keys, sets unknown and null ones aside', () => {
    expect(parseModelParams('kling-v2.6', { prompt: 'p', cfg_scale: 0.5, negative_prompt: null }, 'video')).toEqual({
      model: 'kling-v2.6',
      data: { prompt: 'p', aspect_ratio: '16:9', duration: 5, generate_audio: false },
      ignored: ['cfg_scale'],
    });
  });

  it('ModelInputError names the model and the field, and keeps the reason apart', () => {
    let err: unknown;
    try {
      checkModelRequest({
        model: 'kling-v2.6',
        category: 'video',
        params: { prompt: 'p', duration: 7 },
        params_field: 'video_model_params',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelInputError);
    expect(err).toMatchObject({
      name: 'ModelInputError',
      model: 'kling-v2.6',
      field: 'duration',
      reason: 'must be 5 or 10 (seconds)',
      message: 'kling-v2.6: duration: must be 5 or 10 (seconds)',
    });
    expect(() => checkModelRequest({ model: 'sdxl', category: 'image', params: {} })).toThrow(
      expect.objectContaining({
        field: undefined,
        message: 'sdxl: unknown model (known: nano-banana, hidream-fast, kling-v2.6, seedance-1.5-pro)',
      }),
    );
  });

  it("Ruby's requests (placeholders for what the workflow writes) pass with the defaults", () => {
    expect(rubyModelRequests(RubyInput.parse({})).flatMap(checkModelRequest)).toEqual([]);
  });
});

describe('model params in the JSON Schema of an input', () => {
  const props = (schema: Record<string, unknown>) => schema.properties as Record<string, Record<string, unknown>>;

  it("lists each model's params under a model params field, titled with the model id, without what the workflow sets", () => {
    for (const target of ['draft-7', 'draft-2020-12', 'openapi-3.0'] as const) {
      const image = props(inputJsonSchema(GENERATION_TYPES.ruby.input, target)).image_model_params!;
      expect(image['x-model-field']).toBe('image_model');
      expect(image.default).toEqual({});
      const members = image.anyOf as Record<string, unknown>[];
      expect(members.map((m) => m.title)).toEqual(modelsOfCategory('image'));
      const hidream = props(members[1]!);
      expect(hidream.prompt).toBeUndefined();
      expect(JSON.stringify(hidream.speed_mode)).toContain('"Juiced 🔥 (more speed)"');
      expect(members[1]!.required).toBeUndefined();
    }
    const video = props(inputJsonSchema(RubyInput, 'draft-7')).video_model_params!;
    const kling = props((video.anyOf as Record<string, unknown>[])[0]!);
    expect(Object.keys(kling)).toEqual(['negative_prompt', 'aspect_ratio', 'duration', 'generate_audio']);
    expect(kling.duration).toEqual({ anyOf: [{ type: 'number', enum: [5, 10], default: 5 }, { type: 'null' }] });
  });

  it('leaves other schemas as z.toJSONSchema makes them', () => {
    const voiceover = inputJsonSchema(GENERATION_TYPES.voiceover.input, 'draft-7');
    expect(JSON.stringify(voiceover)).not.toContain('x-model-field');
    expect(props(voiceover).text).toBeDefined();
  });
});
