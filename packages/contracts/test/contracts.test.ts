import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ASPECT_RATIOS,
  AUTH_ERRORS,
  COMPLETE_STEP,
  GENERATION_QUEUE,
  GENERATION_TYPES,
  HelloWorldInput,
  MEDIA_QUEUE,
  QUERY_GET_CURRENT_STEP,
  QUERY_GET_STATUS,
  REWRITE_DEVICES,
  RUBY_STEPS,
  RenderPlan,
  RubyInput,
  RubyOutput,
  StepProgress,
  WORKFLOW_STATUSES,
  formatIssues,
  getGenerationType,
} from '../src/index.js';

describe('wire compatibility with the Python system', () => {
  it('names workflows, queues, queries and statuses exactly', () => {
    expect(GENERATION_TYPES.ruby.workflowType).toBe('RubyWorkflow');
    expect(GENERATION_TYPES.hello_world.workflowType).toBe('HelloWorldWorkflow');
    expect(GENERATION_QUEUE).toBe('generation-queue');
    expect(MEDIA_QUEUE).toBe('media-queue');
    expect(QUERY_GET_STATUS).toBe('get_status');
    expect(QUERY_GET_CURRENT_STEP).toBe('get_current_step');
    expect(WORKFLOW_STATUSES).toEqual(['pending', 'running', 'completed', 'failed', 'cancelled']);
    expect(AUTH_ERRORS).toEqual({
      missing: 'Authentication required: secret_key missing from input',
      invalid: 'Authentication failed: invalid secret_key',
      notConfigured: 'WORKFLOW_SECRET_KEY not configured on server',
    });
  });

  it('keeps the Ruby step ids, names and start percentages', () => {
    expect(Object.values(RUBY_STEPS).map((s) => [s.id, s.name, s.pct])).toEqual([
      ['prompts', 'Generate Prompts', 0],
      ['face', 'Generate Face', 10],
      ['video', 'Generate Video', 30],
      ['slowmo', 'Apply Slow Motion', 60],
      ['text', 'Add Text', 80],
      ['rewrite', 'Rewrite Media', 85],
      ['upload', 'Upload', 90],
    ]);
    expect(StepProgress.parse(COMPLETE_STEP)).toEqual({
      step_id: 'complete',
      step_name: 'Complete',
      status: 'completed',
      progress_pct: 100,
      message: 'Done!',
    });
  });

  it('fills every Ruby default as the Python system had them and ignores unknown keys', () => {
    expect(RubyInput.parse({ topic: 'AI news' })).toEqual({
      secret_key: null,
      rewrite_enabled: false,
      rewrite_device: null,
      additional_prompt: null,
      emotion: 'shocked',
      text_overlay: null,
      gender: 'female',
      age_range: 'early_20s',
      ethnicity: 'caucasian',
      hair_color: 'brown',
      style: 'coquette',
      background: 'bedroom',
      clothing: 'casual',
      aspect_ratio: '9:16',
      video_duration: 5,
      slowed_video: true,
      image_model: 'nano-banana',
      video_model: 'kling-v2.6',
      image_model_params: {},
      video_model_params: {},
    });
  });

  it('accepts free-form labels as the Python `Literal | str` fields did, within bounds', () => {
    expect(RubyInput.parse({ emotion: 'mildly amused', hair_color: 'rose gold' }).emotion).toBe('mildly amused');
    expect(RubyInput.safeParse({ emotion: 'x'.repeat(65) }).success).toBe(false);
    expect(RubyInput.safeParse({ emotion: '<script>' }).success).toBe(false);
    expect(RubyInput.safeParse({ emotion: '' }).success).toBe(false);
  });

  it('lists 21 rewrite devices and rejects others', () => {
    expect(REWRITE_DEVICES).toHaveLength(21);
    expect(REWRITE_DEVICES).toContain('iPhone 17 Pro Max');
    expect(REWRITE_DEVICES).toContain('Ray-Ban Meta Smart Glasses');
    expect(RubyInput.safeParse({ rewrite_device: 'iPhone 12' }).success).toBe(false);
  });
});

describe('validation the Python system lacked', () => {
  const issues = (input: unknown) => {
    const r = RubyInput.safeParse(input);
    return r.success ? [] : formatIssues(r.error, ['input']);
  };

  it.each([
    [{ video_duration: 4 }, 'input.video_duration'],
    [{ video_duration: 11 }, 'input.video_duration'],
    [{ video_duration: 5.5 }, 'input.video_duration'],
    [{ video_duration: 7 }, 'input.video_duration'],
    [{ aspect_ratio: '5:4' }, 'input.aspect_ratio'],
    [{ aspect_ratio: '4:3' }, 'input.aspect_ratio'], // Kling does not make 4:3
    [{ image_model: 'kling-v2.6' }, 'input.image_model'],
    [{ video_model: 'nano-banana' }, 'input.video_model'],
    [{ video_model: 'sora' }, 'input.video_model'],
    [{ text_overlay: 'x'.repeat(301) }, 'input.text_overlay'],
    [{ additional_prompt: 'a\u0000b' }, 'input.additional_prompt'],
    [{ slowed_video: 'yes' }, 'input.slowed_video'],
    [{ secret_key: 42 }, 'input.secret_key'],
    [{ image_model_params: { a: { nested: true } } }, 'input.image_model_params.a'],
  ])('%j is refused at %s', (input, path) => {
    expect(issues(input).map((i) => i.path)).toContain(path);
  });

  it('allows the durations and ratios each model supports', () => {
    expect(RubyInput.safeParse({ video_duration: 10 }).success).toBe(true);
    expect(RubyInput.safeParse({ video_model: 'seedance-1.5-pro', video_duration: 7, aspect_ratio: '3:4' }).success).toBe(true);
    for (const ar of ['9:16', '16:9', '1:1'] as const) expect(RubyInput.safeParse({ aspect_ratio: ar }).success).toBe(true);
    expect(ASPECT_RATIOS).toHaveLength(9);
  });

  it('hello world greets any bounded name', () => {
    expect(HelloWorldInput.parse({}).name).toBe('World');
    expect(HelloWorldInput.parse({ name: "Jean-Luc O'Neil" }).name).toBe("Jean-Luc O'Neil");
    expect(HelloWorldInput.safeParse({ name: 'x'.repeat(101) }).success).toBe(false);
  });
});

describe('render plans refuse what could reach a filter graph', () => {
  const base = { input_url: 'https://cdn.example.com/a.mp4', output: { folder: 'ruby/videos' } };
  it.each(['white:x=1', "red'", 'black,drawtext', 'blue@2', '#12345', 'white;'])('colour %s is refused', (color) => {
    expect(RenderPlan.safeParse({ ...base, caption: { text: 'hi', font_color: color } }).success).toBe(false);
  });
  it('accepts names, hex and alpha', () => {
    for (const color of ['white', '#FFAA00', '#ffaa0080', 'black@0.6', 'red@1'])
      expect(RenderPlan.safeParse({ ...base, caption: { text: 'hi', font_color: color } }).success).toBe(true);
  });
  it('refuses non-http inputs and odd folders', () => {
    expect(RenderPlan.safeParse({ ...base, input_url: 'file:///etc/passwd' }).success).toBe(false);
    expect(RenderPlan.safeParse({ ...base, output: { folder: '../etc' } }).success).toBe(false);
    expect(RenderPlan.safeParse({ ...base, speed: 0 }).success).toBe(false);
  });
});

describe('generation type registry', () => {
  it('finds types by name only (no prototype keys)', () => {
    expect(getGenerationType('ruby')?.workflowType).toBe('RubyWorkflow');
    expect(getGenerationType('toString')).toBeUndefined();
    expect(getGenerationType('__proto__')).toBeUndefined();
  });
  it('every schema converts to JSON Schema (for the catalogue and OpenAPI)', () => {
    for (const t of Object.values(GENERATION_TYPES)) {
      expect(() => z.toJSONSchema(t.input, { target: 'draft-7', io: 'input', unrepresentable: 'any' })).not.toThrow();
      expect(() => z.toJSONSchema(t.output, { target: 'draft-7', unrepresentable: 'any' })).not.toThrow();
    }
    expect(RubyOutput.shape.final_video_url).toBeDefined();
  });
});
