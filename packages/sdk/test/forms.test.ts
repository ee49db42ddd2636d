import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ASPECT_RATIOS,
  GENERATION_TYPE_NAMES,
  GENERATION_TYPES,
  HIDREAM_SPEED_MODES,
  RUBY_SUGGESTIONS,
  checkModelRequest,
  inputJsonSchema,
  modelsOfCategory,
} from '@gptmarket/contracts';
import {
  fieldLabel,
  formDefaults,
  formFieldsFromJsonSchema,
  formFieldsFromSchema,
  getForm,
  getFormRegistry,
  titleCase,
  type FieldDefinition,
} from '../src/index.js';

const field = (type: string, name: string): FieldDefinition => {
  const f = getForm(type)?.fields.find((x) => x.name === name);
  if (!f) throw new Error(`no field ${type}.${name}`);
  return f;
};

describe('form registry', () => {
  it('has a form for every generation type of the contracts, with its name and workflow', () => {
    const registry = getFormRegistry();
    expect(Object.keys(registry).sort()).toEqual([...GENERATION_TYPE_NAMES].sort());
    expect(registry.ruby).toMatchObject({
      type: 'ruby',
      name: 'Ruby',
      workflowType: 'RubyWorkflow',
      description: 'Ruby - AI Influencer for Short-form Videos.',
    });
    expect(getForm('nope')).toBeUndefined();
    expect(getForm('__proto__')).toBeUndefined();
  });

  it('never contains secret_key (nor the refused rewrite options), anywhere', () => {
    const text = JSON.stringify(getFormRegistry());
    expect(text).not.toContain('secret_key');
    expect(text).not.toContain('rewrite_');
    // Even when a schema from elsewhere (the gateway's catalogue) still lists it.
    const fields = formFieldsFromJsonSchema(z.toJSONSchema(GENERATION_TYPES.ruby.input, { io: 'input' }) as Record<string, unknown>);
    expect(fields.map((f) => f.name)).not.toContain('secret_key');
  });

  it('describes Ruby fields with the contract types, bounds and defaults', () => {
    expect(field('ruby', 'video_duration')).toEqual({
      name: 'video_duration',
      type: 'number',
      label: 'Video Duration',
      description: null,
      required: false,
      default: 5,
      nullable: false,
      validation: { integer: true, min: 5, max: 10 },
    });
    const aspect = field('ruby', 'aspect_ratio');
    expect(aspect.type).toBe('select');
    expect(aspect.options).toHaveLength(9);
    expect(aspect.options!.map((o) => o.value)).toEqual([...ASPECT_RATIOS]);
    expect(aspect.options![0]).toEqual({ value: '9:16', label: '9:16' });
    expect(aspect.allowCustom).toBeUndefined();
    expect(aspect.default).toBe('9:16');

    expect(field('ruby', 'slowed_video')).toMatchObject({ type: 'checkbox', default: true });
    expect(field('ruby', 'text_overlay')).toMatchObject({
      type: 'textarea',
      nullable: true,
      default: null,
      validation: { maxLength: 300 },
    });
    expect(field('ruby', 'additional_prompt')).toMatchObject({ type: 'textarea', validation: { maxLength: 2000 } });
  });

  it('turns suggested values into select options that still allow custom values', () => {
    const emotion = field('ruby', 'emotion');
    expect(emotion.type).toBe('select');
    expect(emotion.allowCustom).toBe(true);
    expect(emotion.options!.map((o) => o.value)).toEqual([...RUBY_SUGGESTIONS.emotion]);
    expect(emotion.default).toBe('shocked');
    // The custom value is still bounded by the contract.
    expect(emotion.validation).toMatchObject({ minLength: 1, maxLength: 64 });
    expect(new RegExp(emotion.validation!.pattern!, 'u').test('very happy')).toBe(true);
    expect(new RegExp(emotion.validation!.pattern!, 'u').test('$(rm)')).toBe(false);

    const age = field('ruby', 'age_range');
    expect(age.options).toContainEqual({ value: 'early_20s', label: 'Early 20s' });
    expect(field('ruby', 'ethnicity').options).toContainEqual({ value: 'middle_eastern', label: 'Middle Eastern' });
    for (const name of Object.keys(RUBY_SUGGESTIONS)) expect(field('ruby', name).allowCustom, name).toBe(true);
  });

  it('hides *_params and *_model fields; params are json', () => {
    expect(field('ruby', 'image_model_params')).toMatchObject({ type: 'json', hidden: true, default: {}, required: false });
    expect(field('ruby', 'video_model_params').hidden).toBe(true);
    expect(field('ruby', 'image_model')).toMatchObject({ type: 'text', hidden: true, default: 'nano-banana' });
    expect(field('ruby', 'emotion').hidden).toBeUndefined();
  });

  it("lists each model's params under a model params field, typed from the model registry", () => {
    const params = field('ruby', 'image_model_params');
    expect(params.modelField).toBe('image_model');
    expect(Object.keys(params.models!)).toEqual(modelsOfCategory('image'));
    const hidream = params.models!['hidream-fast']!;
    // The workflow writes the prompt: not a field.
    expect(hidream.map((f) => f.name)).toEqual([
      'model_type',
      'speed_mode',
      'aspect_ratio',
      'seed',
      'output_format',
      'output_quality',
      'negative_prompt',
    ]);
    const speed = hidream.find((f) => f.name === 'speed_mode')!;
    expect(speed).toMatchObject({ type: 'select', required: false, nullable: true, default: 'Extra Juiced 🚀 (even more speed)' });
    expect(speed.options!.map((o) => o.value)).toEqual([...HIDREAM_SPEED_MODES]);
    expect(hidream.find((f) => f.name === 'output_quality')).toMatchObject({
      type: 'number',
      default: 100,
      validation: { integer: true, min: 1, max: 100 },
    });
    expect(hidream.find((f) => f.name === 'aspect_ratio')!.options).toHaveLength(9);

    const video = field('ruby', 'video_model_params');
    expect(video.modelField).toBe('video_model');
    const kling = video.models!['kling-v2.6']!;
    expect(kling.map((f) => f.name)).toEqual(['negative_prompt', 'aspect_ratio', 'duration', 'generate_audio']);
    expect(kling.find((f) => f.name === 'duration')).toMatchObject({
      type: 'select',
      default: 5,
      options: [
        { value: 5, label: '5' },
        { value: 10, label: '10' },
      ],
    });
    expect(video.models!['seedance-1.5-pro']!.find((f) => f.name === 'fps')).toMatchObject({
      type: 'select',
      options: [{ value: 24, label: '24' }],
    });
    // The gateway's catalogue (draft-7) gives the same fields.
    const draft7 = inputJsonSchema(GENERATION_TYPES.ruby.input, 'draft-7');
    expect(formFieldsFromJsonSchema(draft7).find((f) => f.name === 'video_model_params')).toEqual(video);
    // Every listed value is one the model accepts.
    for (const f of kling)
      for (const o of f.options ?? [])
        expect(() =>
          checkModelRequest({ model: 'kling-v2.6', category: 'video', params: { prompt: 'p', [f.name]: o.value } }),
        ).not.toThrow();
  });

  it('marks fields without default as required and keeps order of the contract', () => {
    const vo = getForm('voiceover')!;
    expect(vo.fields.filter((f) => f.required).map((f) => f.name)).toEqual(['text']);
    expect(field('voiceover', 'text')).toMatchObject({ type: 'textarea', validation: { maxLength: 5000 } });
    expect(field('voiceover', 'provider')).toMatchObject({ type: 'select', nullable: true, default: null });
    expect(field('voiceover', 'provider').options!.map((o) => o.label)).toEqual(['Elevenlabs', 'Cartesia', 'Local']);
    expect(field('voiceover', 'speed').validation).toEqual({ min: 0.7, max: 1.2 });
    expect(field('voiceover', 'model_id').hidden).toBeUndefined();
    expect(field('transcript_summary', 'media_url')).toMatchObject({ label: 'Media URL', required: true, validation: { format: 'uri' } });
    expect(getForm('slideshows_pinterest')!.fields.map((f) => f.name)).toEqual(['prompt']);
    const rubyOrder = getForm('ruby')!.fields.map((f) => f.name);
    expect(rubyOrder.indexOf('emotion')).toBeLessThan(rubyOrder.indexOf('aspect_ratio'));
  });

  it('is frozen, and defaults are copies', () => {
    const ruby = getForm('ruby')!;
    expect(() => {
      (ruby.fields as FieldDefinition[]).push(ruby.fields[0]!);
    }).toThrow();
    const defaults = formDefaults(ruby);
    expect(defaults).toMatchObject({ emotion: 'shocked', video_duration: 5, image_model_params: {} });
    (defaults.image_model_params as Record<string, unknown>).x = 1;
    expect(field('ruby', 'image_model_params').default).toEqual({});
    // The defaults are a valid input.
    expect(GENERATION_TYPES.ruby.input.safeParse(defaults).success).toBe(true);
  });

  it('reads the gateway catalogue shape (draft-7) the same way as the zod schema', () => {
    const draft7 = z.toJSONSchema(GENERATION_TYPES.voiceover.input, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Record<
      string,
      unknown
    >;
    expect(formFieldsFromJsonSchema(draft7)).toEqual(formFieldsFromSchema(GENERATION_TYPES.voiceover.input));
    // type: [X, "null"] is nullable too.
    expect(
      formFieldsFromJsonSchema({ type: 'object', properties: { n: { type: ['integer', 'null'], minimum: 1 } }, required: ['n'] }),
    ).toEqual([
      {
        name: 'n',
        type: 'number',
        label: 'N',
        description: null,
        required: true,
        default: undefined,
        nullable: true,
        validation: { integer: true, min: 1 },
      },
    ]);
  });

  it('labels values and names in title case', () => {
    expect(titleCase('early_20s')).toBe('Early 20s');
    expect(titleCase('iPhone 17 Pro Max')).toBe('iPhone 17 Pro Max');
    expect(titleCase('y2k')).toBe('Y2k');
    expect(fieldLabel('voice_id')).toBe('Voice ID');
  });
});
