import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { AUTH_ERRORS, RUBY_SLOWMO_SPEED, RUBY_STEPS, type Generation } from '@gptmarket/contracts';
import { workflowToken } from '@gptmarket/runtime';
import { compileRender, probeMedia } from '@gptmarket/media-worker';
import { RenderPlan } from '@gptmarket/contracts';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { api, ffprobe, frameAt, meanDiff, startStack, topLevelBoxes, type Stack } from './helpers.js';

let stack: Stack;
let work: string;

beforeAll(async () => {
  // The tests poll while runs go on (slower on a loaded machine): the anonymous per-IP limit is not what they test.
  stack = await startStack('gateway_e2e', { RATE_LIMIT_ANON_MAX: '100000' });
  work = mkdtempSync(join(tmpdir(), 'gptmarket-e2e-'));
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function download(url: string, name: string): Promise<{ path: string; bytes: Buffer; contentType: string | null }> {
  const res = await fetch(url);
  expect(res.status, `GET ${url}`).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  const path = join(work, name);
  writeFileSync(path, bytes);
  return { path, bytes, contentType: res.headers.get('content-type') };
}

async function waitForTerminal(id: string, onPoll?: (g: Generation) => void): Promise<Generation> {
  const deadline = Date.now() + 150_000;
  for (;;) {
    const { status, json } = await api(stack, 'GET', `/v1/generations/${id}`);
    expect(status).toBe(200);
    onPoll?.(json);
    if (['completed', 'failed', 'cancelled'].includes(json.status)) return json;
    if (Date.now() > deadline) throw new Error(`generation ${id} still ${json.status}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe('a Ruby request through the gateway', () => {
  it('becomes a captioned slow-motion MP4 in storage, with progress answered while it runs', async () => {
    const caption = "it's 100% real";
    const created = await api(stack, 'POST', '/v1/generations', { type: 'ruby', input: { emotion: 'shocked', text_overlay: caption } });
    expect(created.status).toBe(202);
    const gen = created.json as Generation;
    expect(gen.id).toMatch(/^gen_/);
    expect(gen.workflow_type).toBe('RubyWorkflow');
    expect(gen.workflow_id).toMatch(/^ruby-/);
    expect(gen.input).not.toHaveProperty('secret_key');
    expect(gen.input.video_duration).toBe(5);

    // The two queries answer while the workflow runs (directly over Temporal, as Python-era frontends do).
    const handle = stack.temporal.client.workflow.getHandle(gen.workflow_id);
    const liveStatus = await handle.query<string>('get_status');
    expect(['pending', 'running', 'completed']).toContain(liveStatus);
    const liveStep = await handle.query<any>('get_current_step');
    if (liveStep !== null) {
      expect(Object.keys(liveStep).sort()).toEqual(['message', 'progress_pct', 'status', 'step_id', 'step_name']);
    }

    const seenSteps = new Set<string>();
    const done = await waitForTerminal(
      gen.id,
      (g) => g.current_step && seenSteps.add(`${g.current_step.step_id}@${g.current_step.progress_pct}`),
    );
    expect(done.status, JSON.stringify(done.error)).toBe('completed');
    expect(done.current_step).toEqual({
      step_id: 'complete',
      step_name: 'Complete',
      status: 'completed',
      progress_pct: 100,
      message: 'Done!',
    });
    // Every step seen carried its step table's percentage (packages/contracts).
    const pctById = Object.fromEntries(Object.values(RUBY_STEPS).map((s) => [s.id, s.pct]));
    for (const s of seenSteps) {
      const [id, pct] = s.split('@');
      if (id !== 'complete') expect(Number(pct)).toBe(pctById[id!]);
    }
    expect(done.completed_at).not.toBeNull();

    const out = done.output as Record<string, any>;
    for (const field of ['face_image_url', 'raw_video_url', 'final_video_url']) {
      expect(out[field], field).toMatch(new RegExp(`^${stack.baseUrl}/media/ruby/`));
    }
    expect(out.image_model).toBe('nano-banana');
    expect(out.video_model).toBe('kling-v2.6');
    expect(out.providers).toEqual({ prompts: 'local', image: 'local', video: 'local' });
    // every input reaches the image prompt (the Python template dropped these three)
    expect(out.enhanced_image_prompt).toContain('brown');
    expect(out.enhanced_image_prompt).toContain('caucasian');
    expect(out.enhanced_image_prompt).toContain('casual');

    // Every final video has a poster frame and an animated preview in our storage.
    const poster = await download(out.final_video_poster_url, 'poster.jpg');
    expect(poster.contentType).toBe('image/jpeg');
    const preview = await download(out.final_video_preview_url, 'preview.gif');
    expect(preview.contentType).toBe('image/gif');
    expect(ffprobe(preview.path).streams[0].codec_name).toBe('gif');

    const face = await download(out.face_image_url, 'face.png');
    expect(face.contentType).toBe('image/png');
    expect(ffprobe(face.path).streams[0].codec_name).toBe('png');

    const raw = await download(out.raw_video_url, 'raw.mp4');
    const final = await download(out.final_video_url, 'final.mp4');
    expect(final.contentType).toBe('video/mp4');

    const rawInfo = ffprobe(raw.path);
    const info = ffprobe(final.path);
    const v = info.streams.find((s: any) => s.codec_type === 'video');
    expect(v.codec_name).toBe('h264');
    expect(v.pix_fmt).toBe('yuv420p');
    expect(info.streams.some((s: any) => s.codec_type === 'audio')).toBe(false);
    expect(v.width / v.height).toBeCloseTo(9 / 16, 2);
    expect(topLevelBoxes(final.bytes).indexOf('moov')).toBeLessThan(topLevelBoxes(final.bytes).indexOf('mdat'));
    // Provenance is labelled; nothing carried over from the source.
    expect(info.format.tags.ai_generated).toBe('true');
    expect(info.format.tags.comment).toMatch(/AI-generated/);

    const [num, den] = String(v.r_frame_rate).split('/').map(Number);
    const frame = den! / num!;
    const expected = Number(rawInfo.format.duration) / RUBY_SLOWMO_SPEED;
    expect(Math.abs(Number(info.format.duration) - expected)).toBeLessThanOrEqual(frame + 1e-6);

    // The caption is drawn: the same frame rendered through the same engine without a caption differs in the
    // caption band (centre) and matches elsewhere.
    const plan = RenderPlan.parse({
      input_url: 'http://unused.invalid/x.mp4',
      speed: RUBY_SLOWMO_SPEED,
      caption: null,
      output: { folder: 'x' },
    });
    const refDir = mkdtempSync(join(work, 'ref-'));
    const compiled = compileRender(plan, await probeMedia(raw.path), { dir: refDir, input: raw.path, fontFile: () => '/unused' });
    const r = spawnSync('ffmpeg', compiled.args, { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const a = frameAt(final.path, 1.0, v.width, v.height);
    const b = frameAt(compiled.outputPath, 1.0, v.width, v.height);
    const band = meanDiff(a, b, v.width, Math.floor(v.height * 0.4), Math.floor(v.height * 0.6));
    const top = meanDiff(a, b, v.width, 0, Math.floor(v.height * 0.1));
    expect(band).toBeGreaterThan(8);
    expect(top).toBeLessThan(3);
  }, 180_000);

  it('without slow motion or a caption the final video still goes through the engine once (provenance, thumbnails)', async () => {
    const created = await api(stack, 'POST', '/v1/generations', { type: 'ruby', input: { slowed_video: false, aspect_ratio: '16:9' } });
    expect(created.status).toBe(202);
    const done = await waitForTerminal(created.json.id);
    expect(done.status, JSON.stringify(done.error)).toBe('completed');
    const out = done.output as Record<string, any>;
    expect(out.final_video_url).toMatch(/\/media\/ruby\/videos\//);
    expect(out.final_video_url).not.toBe(out.raw_video_url);
    expect(out.final_video_poster_url).toMatch(/\/media\//);
    const raw = ffprobe((await download(out.raw_video_url, 'raw-plain.mp4')).path);
    const final = ffprobe((await download(out.final_video_url, 'final-plain.mp4')).path);
    expect(final.format.tags.ai_generated).toBe('true');
    expect(raw.format.tags?.ai_generated).toBeUndefined();
    const v = final.streams.find((st: any) => st.codec_type === 'video');
    expect(v.pix_fmt).toBe('yuv420p');
    expect(v.width / v.height).toBeCloseTo(16 / 9, 2);
    expect(Math.abs(Number(final.format.duration) - Number(raw.format.duration))).toBeLessThan(0.1);
  }, 120_000);

  it("takes the Python docs' model-param examples with the default models: unknown keys dropped, with warnings", async () => {
    const created = await api(stack, 'POST', '/v1/generations', {
      type: 'ruby',
      input: { slowed_video: false, image_model_params: { speed_mode: 'Extra Juiced 🚀' }, video_model_params: { camera_fixed: false } },
    });
    expect(created.status).toBe(202);
    const warnings = [
      'image_model_params.speed_mode was ignored: nano-banana has no such parameter',
      'video_model_params.camera_fixed was ignored: kling-v2.6 has no such parameter',
    ];
    expect(created.json.warnings).toEqual(warnings);
    const done = await waitForTerminal(created.json.id);
    expect(done.status, JSON.stringify(done.error)).toBe('completed');
    expect((done.output as Record<string, unknown>).warnings).toEqual(warnings);
    expect(done.warnings).toEqual(warnings);
  }, 120_000);

  it('HelloWorldWorkflow works through the same path', async () => {
    const created = await api(stack, 'POST', '/v1/generations', { type: 'hello_world', input: { name: 'Ruby' } });
    expect(created.status).toBe(202);
    const done = await waitForTerminal(created.json.id);
    expect(done.status).toBe('completed');
    expect(done.output).toEqual({ message: 'Hello, Ruby!' });
  }, 60_000);

  it('keeps the raw secret out of rows and gateway-started histories', async () => {
    const created = await api(stack, 'POST', '/v1/generations', { type: 'hello_world', input: {} });
    const done = await waitForTerminal(created.json.id);
    const history = await stack.temporal.client.workflow.getHandle(done.workflow_id).fetchHistory();
    // Payloads serialise as base64: decode every one so the check sees the real bytes.
    const json = JSON.stringify(history);
    const text =
      json + [...json.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8')).join('\n');
    expect(text).not.toContain(stack.secret);
    expect(text).toContain(workflowToken(stack.secret, done.workflow_id));
    const client = new pg.Client({ connectionString: stack.databaseUrl });
    await client.connect();
    const { rows } = await client.query('select * from generations');
    await client.end();
    expect(JSON.stringify(rows)).not.toContain(stack.secret);
    expect(JSON.stringify(rows)).not.toContain('v1.');
  }, 60_000);
});

describe('bad input gets the contract answer and starts nothing', () => {
  const countWorkflows = async () => {
    let n = 0;
    for await (const _ of stack.temporal.client.workflow.list()) n++;
    return n;
  };

  it.each([
    ['an unknown type', { type: 'sora', input: {} }, 'unknown_type', null],
    ['video_duration above 10', { type: 'ruby', input: { video_duration: 11 } }, 'validation_failed', 'input.video_duration'],
    ['a duration Kling cannot make', { type: 'ruby', input: { video_duration: 7 } }, 'validation_failed', 'input.video_duration'],
    ['an unknown aspect ratio', { type: 'ruby', input: { aspect_ratio: '5:4' } }, 'validation_failed', 'input.aspect_ratio'],
    ['a video model as image model', { type: 'ruby', input: { image_model: 'kling-v2.6' } }, 'validation_failed', 'input.image_model'],
    ['a 5000-character caption', { type: 'ruby', input: { text_overlay: 'x'.repeat(5000) } }, 'validation_failed', 'input.text_overlay'],
    ['a missing type', { input: {} }, 'validation_failed', 'type'],
    [
      'a frame rate seedance cannot make',
      { type: 'ruby', input: { video_model: 'seedance-1.5-pro', video_model_params: { fps: 30 } } },
      'validation_failed',
      'input.video_model_params.fps',
    ],
    [
      'a speed mode HiDream does not have',
      { type: 'ruby', input: { image_model: 'hidream-fast', image_model_params: { speed_mode: 'Extra Juiced 🚀' } } },
      'validation_failed',
      'input.image_model_params.speed_mode',
    ],
  ])('%s → 400', async (_label, body, code, path) => {
    const before = await countWorkflows();
    const res = await api(stack, 'POST', '/v1/generations', body);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe(code);
    expect(res.json.error.request_id).toMatch(/^req_/);
    if (path) expect(res.json.error.details.map((d: any) => d.path)).toContain(path);
    expect(await countWorkflows()).toBe(before);
  });

  it('answers malformed JSON, wrong content types and oversize bodies with 4xx', async () => {
    expect((await api(stack, 'POST', '/v1/generations', '{"type":')).status).toBe(400);
    const plain = await fetch(`${stack.baseUrl}/v1/generations`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    expect(plain.status).toBe(415);
    const big = await api(stack, 'POST', '/v1/generations', { type: 'ruby', input: { additional_prompt: 'x'.repeat(400_000) } });
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('payload_too_large');
    expect((await api(stack, 'GET', '/v1/generations/gen_doesnotexist00')).status).toBe(404);
    expect((await api(stack, 'GET', '/v1/generations/not-an-id')).status).toBe(400);
  });
});

describe('workflow auth through a direct Temporal client', () => {
  const run = async (input: Record<string, unknown>, workflowId = `hello-${Math.random().toString(36).slice(2)}`) =>
    stack.temporal.client.workflow.execute('HelloWorldWorkflow', { taskQueue: 'generation-queue', workflowId, args: [input] });

  const failureOf = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    return cause as ApplicationFailure;
  };

  it('omitting secret_key fails with the non-retryable "Authentication required" error', async () => {
    const cause = await failureOf(run({ name: 'x' }));
    expect(cause.message).toBe(AUTH_ERRORS.missing);
    expect(cause.nonRetryable).toBe(true);
  });

  it('a wrong key fails with "Authentication failed: invalid secret_key"', async () => {
    const cause = await failureOf(run({ name: 'x', secret_key: 'not-the-secret' }));
    expect(cause.message).toBe(AUTH_ERRORS.invalid);
    expect(cause.nonRetryable).toBe(true);
  });

  it('bad model params fail the workflow before anything is paid for', async () => {
    const workflowId = `ruby-badparams-${Date.now()}`;
    const err = await stack.temporal.client.workflow
      .execute('RubyWorkflow', {
        taskQueue: 'generation-queue',
        workflowId,
        args: [{ secret_key: stack.secret, video_model_params: { duration: 7 } }],
      })
      .then(
        () => null,
        (e) => e,
      );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('InvalidInputError');
    expect(cause.message).toMatch(/kling-v2\.6: duration/);
    const history = await stack.temporal.client.workflow.getHandle(workflowId).fetchHistory();
    expect(history.events?.some((e) => e.activityTaskScheduledEventAttributes)).toBe(false);
  });

  it("another workflow's token is refused; the raw secret and this workflow's token are accepted", async () => {
    const cause = await failureOf(run({ secret_key: workflowToken(stack.secret, 'some-other-id') }));
    expect(cause.message).toBe(AUTH_ERRORS.invalid);
    expect(await run({ name: 'Next.js', secret_key: stack.secret })).toEqual({ message: 'Hello, Next.js!' });
    const id = 'hello-token-check';
    expect(await run({ secret_key: workflowToken(stack.secret, id) }, id)).toEqual({ message: 'Hello, World!' });
  });
});
