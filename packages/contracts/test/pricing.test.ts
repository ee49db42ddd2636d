import { describe, expect, it } from 'vitest';
import { estimateCost, estimatedCost, PRICES, priceOf, settleCost, stepsPaid, usageOf, type Cost } from '../src/index.js';

const RUBY_ORDER = ['prompts', 'face', 'video', 'slowmo', 'text', 'rewrite', 'upload'];
const ruby = (over: Record<string, unknown> = {}) =>
  estimatedCost(
    estimateCost('ruby', {
      image_model: 'nano-banana',
      video_model: 'kling-v2.6',
      video_duration: 10,
      aspect_ratio: '9:16',
      image_model_params: {},
      video_model_params: {},
      ...over,
    }),
  );
const amounts = (c: Cost) => Object.fromEntries(c.items.map((i) => [`${i.step}:${i.unit}`, i.amount]));

describe('price table', () => {
  it('prices every registry model, with a source and the date it was read', () => {
    for (const id of ['nano-banana', 'hidream-fast', 'kling-v2.6', 'seedance-1.5-pro'] as const) {
      expect(PRICES[id].source).toMatch(/^https:\/\//);
      expect(PRICES[id].checked).toMatch(/^\d{4}-\d\d-\d\d$/);
    }
    expect(priceOf('openai/gpt-4o-mini-2024-07-18')).toBe(PRICES['openai/gpt-4o-mini']);
    expect(priceOf('openai/gpt-4o')).toBeUndefined();
  });

  it('estimates a Ruby request: prompt tokens at their cap, one image, the clip seconds (with sound at its price)', () => {
    const cost = ruby();
    expect(amounts(cost)).toEqual({
      'prompts:input_token': 0.00045, // 3000 × 0.15 / 1M
      'prompts:output_token': 0.002458, // 4096 × 0.60 / 1M, rounded to a micro-dollar
      'face:image': 0.15,
      'video:second': 0.7, // 10 s × 0.07
    });
    expect(cost.estimated).toBe(0.852908);
    expect(amounts(ruby({ image_model_params: { resolution: '4K' }, video_model_params: { generate_audio: true } }))).toMatchObject({
      'face:image': 0.3,
      'video:second': 1.4,
    });
    expect(estimateCost('hello_world', {})).toEqual([]);
    expect(estimateCost('voiceover', { text: 'héllo', provider: 'cartesia' })).toMatchObject([
      { unit: 'character', units: 5, amount: 0.0002 },
    ]);
    expect(estimateCost('voiceover', { text: 'hello', provider: 'local' })).toEqual([]);
  });

  it('settles a completed run from its usage; the local provider costs 0', () => {
    const usage = [
      { step: 'prompts', provider: 'local', model: 'local' },
      { step: 'prompts', provider: 'local', model: 'local' },
      { step: 'face', provider: 'replicate', model: 'nano-banana', predict_time: 4 },
      { step: 'video', provider: 'local', model: 'kling-v2.6' },
    ];
    const settled = settleCost(ruby(), usage, stepsPaid(RUBY_ORDER, 'completed', 'complete'));
    expect(settled.actual).toBe(0.15);
    expect(settled.items.find((i) => i.step === 'face')).toMatchObject({ provider: 'replicate', predict_time: 4, basis: 'usage' });
    // Outputs from before usage was reported: the providers they name.
    expect(usageOf('ruby', { providers: { prompts: 'local', image: 'local', video: 'replicate' }, video_model: 'kling-v2.6' })).toEqual([
      { step: 'prompts', provider: 'local', model: 'local' },
      { step: 'face', provider: 'local', model: 'local' },
      { step: 'video', provider: 'replicate', model: 'kling-v2.6' },
    ]);
  });

  it('counts the steps before a failure, and the step a cancel stopped in', () => {
    const failedInVideo = settleCost(ruby(), [], stepsPaid(RUBY_ORDER, 'failed', 'video'));
    expect(failedInVideo.actual).toBe(0.152908);
    expect(failedInVideo.items.find((i) => i.step === 'video')).toMatchObject({ amount: 0, basis: 'not_paid' });
    expect(settleCost(ruby(), [], stepsPaid(RUBY_ORDER, 'failed', null)).actual).toBe(0);
    expect(settleCost(ruby(), [], stepsPaid(RUBY_ORDER, 'failed', 'upload')).actual).toBe(0.852908);
    expect(settleCost(ruby(), [], stepsPaid(RUBY_ORDER, 'cancelled', 'video')).actual).toBe(0.852908);
    expect(settleCost(ruby(), [], stepsPaid(RUBY_ORDER, 'cancelled', 'prompts')).actual).toBe(0.002908);
  });
});
