import { describe, expect, it } from 'vitest';
import { checkModelRequest } from '@gptmarket/contracts';
import { buildPrediction, ModelInputError, ProviderError } from '../src/index.js';

const img = 'https://cdn.example.com/a.png';

describe('model registry payloads', () => {
  it('nano-banana: defaults, 9:21 → 9:16, match_input_image with reference images', () => {
    expect(buildPrediction('nano-banana', { prompt: 'a cat' }, 'image')).toEqual({
      model: 'google/nano-banana-pro',
      input: { prompt: 'a cat', aspect_ratio: '1:1', resolution: '2K', output_format: 'jpg', safety_filter_level: 'block_only_high' },
    });
    expect(
      buildPrediction('nano-banana', { prompt: 'p', aspect_ratio: '9:21', resolution: '4K', output_format: 'png' }, 'image').input,
    ).toEqual({
      prompt: 'p',
      aspect_ratio: '9:16',
      resolution: '4K',
      output_format: 'png',
      safety_filter_level: 'block_only_high',
    });
    expect(
      buildPrediction(
        'nano-banana',
        { prompt: 'p', aspect_ratio: '3:4', image_input: [img], safety_filter_level: 'block_low_and_above' },
        'image',
      ).input,
    ).toEqual({
      prompt: 'p',
      image_input: [img],
      aspect_ratio: 'match_input_image',
      resolution: '2K',
      output_format: 'jpg',
      safety_filter_level: 'block_low_and_above',
    });
  });

  it('hidream-fast: aspect ratio becomes the "×" resolution string', () => {
    const cases: Array<[string, string]> = [
      ['1:1', '1024 × 1024 (Square)'],
      ['9:16', '768 × 1360 (Portrait)'],
      ['9:21', '768 × 1360 (Portrait)'],
      ['3:4', '880 × 1168 (Portrait)'],
      ['2:3', '832 × 1248 (Portrait)'],
      ['16:9', '1360 × 768 (Landscape)'],
      ['21:9', '1360 × 768 (Landscape)'],
      ['4:3', '1168 × 880 (Landscape)'],
      ['3:2', '1248 × 832 (Landscape)'],
    ];
    for (const [ar, res] of cases) {
      const p = buildPrediction('hidream-fast', { prompt: 'x', aspect_ratio: ar }, 'image');
      expect(p.input.resolution).toBe(res);
      expect(String(p.input.resolution)).toContain('\u00d7');
    }
    expect(
      buildPrediction(
        'hidream-fast',
        { prompt: 'x', seed: 42, output_quality: 80, speed_mode: 'Juiced 🔥 (more speed)', negative_prompt: 'blur' },
        'image',
      ),
    ).toEqual({
      model: 'prunaai/hidream-l1-fast',
      input: {
        prompt: 'x',
        model_type: 'fast',
        speed_mode: 'Juiced 🔥 (more speed)',
        resolution: '1024 × 1024 (Square)',
        seed: 42,
        output_format: 'webp',
        output_quality: 80,
        negative_prompt: 'blur',
      },
    });
  });

  it('kling-v2.6: image alias → start_image, negative prompt only when set', () => {
    expect(
      buildPrediction(
        'kling-v2.6',
        { prompt: 'p', image: img, duration: 10, aspect_ratio: '9:16', generate_audio: false, negative_prompt: '' },
        'video',
      ),
    ).toEqual({
      model: 'kwaivgi/kling-v2.6',
      input: { prompt: 'p', start_image: img, aspect_ratio: '9:16', duration: 10, generate_audio: false },
    });
    expect(buildPrediction('kling-v2.6', { prompt: 'p', negative_prompt: 'text' }, 'video').input).toEqual({
      prompt: 'p',
      negative_prompt: 'text',
      aspect_ratio: '16:9',
      duration: 5,
      generate_audio: false,
    });
  });

  it('seedance-1.5-pro: defaults, seed only when set', () => {
    expect(buildPrediction('seedance-1.5-pro', { prompt: 'p', image: img }, 'video')).toEqual({
      model: 'bytedance/seedance-1.5-pro',
      input: { prompt: 'p', image: img, duration: 5, aspect_ratio: '16:9', fps: 24, camera_fixed: false, generate_audio: false },
    });
    expect(
      buildPrediction(
        'seedance-1.5-pro',
        { prompt: 'p', duration: 12, aspect_ratio: '9:21', seed: 7, camera_fixed: true, last_frame_image: img, fps: 24 },
        'video',
      ).input,
    ).toEqual({
      prompt: 'p',
      last_frame_image: img,
      duration: 12,
      aspect_ratio: '9:21',
      fps: 24,
      camera_fixed: true,
      generate_audio: false,
      seed: 7,
    });
  });

  it('keys a model does not know are left out of the payload (the Python input models ignored them)', () => {
    expect(buildPrediction('nano-banana', { prompt: 'p', negative_prompt: 'x', speed_mode: 'Extra Juiced 🚀' }, 'image')).toEqual(
      buildPrediction('nano-banana', { prompt: 'p' }, 'image'),
    );
    expect(
      buildPrediction('hidream-fast', { prompt: 'x', steps: 30, resolution: '1024 × 1024 (Square)', model_type: 'fast' }, 'image').input,
    ).toEqual(buildPrediction('hidream-fast', { prompt: 'x' }, 'image').input);
    expect(buildPrediction('kling-v2.6', { prompt: 'p', camera_fixed: false }, 'video').input).not.toHaveProperty('camera_fixed');
  });

  it('null params count as unset', () => {
    expect(buildPrediction('kling-v2.6', { prompt: 'p', negative_prompt: null, duration: null }, 'video').input.duration).toBe(5);
  });

  const bad: Array<[string, Record<string, unknown>, 'image' | 'video', RegExp]> = [
    ['kling-v2.6', { prompt: 'p', duration: 7 }, 'video', /duration: must be 5 or 10/],
    ['seedance-1.5-pro', { prompt: 'p', fps: 30 }, 'video', /fps: must be 24/],
    ['seedance-1.5-pro', { prompt: 'p', duration: 13 }, 'video', /duration: must be a whole number of seconds from 2 to 12/],
    ['seedance-1.5-pro', { prompt: 'p', duration: 2.5 }, 'video', /duration/],
    ['kling-v2.6', { prompt: 'p', duration: '5' }, 'video', /duration/],
    ['kling-v2.6', { prompt: 'p', aspect_ratio: '4:3' }, 'video', /aspect_ratio: must be one of 16:9, 9:16, 1:1/],
    ['nano-banana', { prompt: 'p', aspect_ratio: '5:4' }, 'image', /aspect_ratio/],
    ['hidream-fast', { prompt: 'p', model_type: 'full' }, 'image', /model_type: must be "fast"/],
    ['hidream-fast', { prompt: 'p', speed_mode: 'Extra Juiced 🚀' }, 'image', /speed_mode/],
    ['seedance-1.5-pro', { prompt: 'p', camera_fixed: 'no' }, 'video', /camera_fixed/],
    ['hidream-fast', { prompt: 'p', output_quality: 0 }, 'image', /output_quality/],
    ['nano-banana', { prompt: '' }, 'image', /prompt/],
    ['nano-banana', { prompt: 'p' }, 'video', /image model and cannot be used for video/],
    ['kling-v2.6', { prompt: 'p' }, 'image', /video model and cannot be used for image/],
    ['sdxl', { prompt: 'p' }, 'image', /unknown model/],
    ['kling-v2.6', { prompt: 'p', image: img, start_image: 'https://evil.example/x.png' }, 'video', /start_image/],
    ['kling-v2.6', { prompt: 'p', image: 'file:///etc/passwd' }, 'video', /image: must be an http/],
  ];
  it.each(bad)('%s rejects %j', (model, params, cat, re) => {
    let err: unknown;
    try {
      buildPrediction(model, params, cat);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelInputError);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).retryable).toBe(false);
    expect((err as Error).message).toMatch(re);
  });
});

describe('checkModelRequest: the check the gateway and the workflow share', () => {
  it("accepts the Python docs' own examples with the default models, with one warning per dropped key", () => {
    expect(
      checkModelRequest({
        model: 'nano-banana',
        category: 'image',
        params: { prompt: 'p', aspect_ratio: '9:16', speed_mode: 'Extra Juiced 🚀' },
        params_field: 'image_model_params',
      }),
    ).toEqual(['image_model_params.speed_mode was ignored: nano-banana has no such parameter']);
    expect(
      checkModelRequest({
        model: 'kling-v2.6',
        category: 'video',
        params: { prompt: 'p', duration: 5, camera_fixed: false, cfg_scale: 0.5 },
        params_field: 'video_model_params',
      }),
    ).toEqual([
      'video_model_params.camera_fixed was ignored: kling-v2.6 has no such parameter',
      'video_model_params.cfg_scale was ignored: kling-v2.6 has no such parameter',
    ]);
  });

  it('has no warning for known or unset keys, and the same errors as buildPrediction for the rest', () => {
    expect(
      checkModelRequest({
        model: 'seedance-1.5-pro',
        category: 'video',
        params: { prompt: 'p', camera_fixed: false, generate_audio: true, foo: null },
      }),
    ).toEqual([]);
    expect(() =>
      checkModelRequest({
        model: 'hidream-fast',
        category: 'image',
        params: { prompt: 'p', speed_mode: 'Extra Juiced 🚀' },
        params_field: 'image_model_params',
      }),
    ).toThrow(expect.objectContaining({ name: 'ModelInputError', field: 'speed_mode' }));
    expect(() => checkModelRequest({ model: 'kling-v2.6', category: 'video', params: { prompt: 'p', duration: 7, foo: 1 } })).toThrow(
      /kling-v2\.6: duration: must be 5 or 10/,
    );
  });
});
