/**
 * RubyWorkflow end to end with the paid providers: OpenAI (prompts) and Replicate (face + video) are fake
 * servers speaking their real protocols, reached through the official SDKs; Temporal, FFmpeg and storage are real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUBY_WORKFLOW, type RubyOutput } from '@gptmarket/contracts';
import { createOpenAiLlm, createProviderLimiter, createReplicate } from '@gptmarket/providers';
import { FAKE_REPLICATE_KEY, startFakeReplicate, type FakeReplicate } from '../../../packages/providers/test/fakes/replicate.js';
import { startFakeOpenAi, type FakeLlm } from '../../../packages/providers/test/fakes/llm.js';
import { decodeAudio, ffprobe, readStored, runWorkflow, startHarness, storedPath, type Harness, type Probe } from './harness.js';

let h: Harness;
let replicate: FakeReplicate;
let openai: FakeLlm & { baseUrl: string };

const PERSON = {
  subject: { type: 'candid selfie', hair: { color: 'pink' } },
  apparel: {},
  phone: { model: 'iPhone_15_Pro_Max' },
  environment: {},
  image_rendering: {},
};
const REACTION = {
  movements: ['Eyes widen', 'Brows lift', 'Head tilts', 'Leans in', 'Holds still'],
  final_prompt: 'Eyes widen, brows lift. No speech, mouth closed.',
};

beforeAll(async () => {
  [replicate, openai] = await Promise.all([startFakeReplicate({ pollsToFinish: 2 }), startFakeOpenAi()]);
  openai.fallback = (req) => {
    const user = (req.json as { messages: Array<{ role: string; content: string }> }).messages.find((m) => m.role === 'user')!.content;
    return { content: JSON.stringify(user.includes('final_prompt') ? REACTION : PERSON) };
  };
  h = await startHarness({
    generation: {
      providers: {
        replicate: createReplicate(
          { REPLICATE_API_KEY: FAKE_REPLICATE_KEY, REPLICATE_BASE_URL: replicate.baseUrl },
          { limiter: createProviderLimiter('replicate', 4) },
        ),
        downloadPolicy: { allowHosts: [`127.0.0.1:${replicate.port}`] },
        pollMs: 50,
        maxOutputBytes: 50 * 1024 * 1024,
        promptLlm: createOpenAiLlm({ OPENAI_API_KEY: 'sk-test-openai-key-123456', OPENAI_BASE_URL: openai.baseUrl }),
      },
    },
  });
}, 180_000);

afterAll(async () => {
  await h?.stop();
  await Promise.all([replicate?.close(), openai?.close()]);
});

describe('RubyWorkflow with OpenAI and Replicate', () => {
  it('sends the exact payloads, chains the face into the video, and re-hosts every output', async () => {
    const run = await runWorkflow<RubyOutput>(
      h,
      RUBY_WORKFLOW,
      {
        text_overlay: 'wait for it',
        hair_color: 'pink',
        ethnicity: 'latino',
        clothing: 'athletic',
        aspect_ratio: '9:16',
        image_model: 'hidream-fast',
        image_model_params: { seed: 7, speed_mode: 'Juiced 🔥 (more speed)' },
        video_model: 'kling-v2.6',
        video_duration: 10,
        video_model_params: { negative_prompt: 'blurry' },
      },
      { timeoutMs: 150_000 },
    );
    expect(run.error).toBeUndefined();
    const out = run.result!;

    // Prompts: two OpenAI calls, every person attribute in the person prompt.
    const chats = openai.requests.filter((r) => r.path === '/v1/chat/completions');
    expect(chats).toHaveLength(2);
    const personUser = chats
      .map((c) => (c.json as { messages: Array<{ role: string; content: string }> }).messages[1]!.content)
      .find((u) => u.includes('Hair colour'))!;
    for (const v of ['pink', 'latino', 'athletic']) expect(personUser).toContain(v);
    expect(out.enhanced_image_prompt).toBe(JSON.stringify(PERSON));
    expect(out.enhanced_video_prompt).toBe(REACTION.final_prompt);

    // Replicate: exactly two creates, with the registry payloads.
    const creates = replicate.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/predictions'));
    expect(creates.map((c) => c.path)).toEqual([
      '/v1/models/prunaai/hidream-l1-fast/predictions',
      '/v1/models/kwaivgi/kling-v2.6/predictions',
    ]);
    expect(creates[0]!.json).toEqual({
      input: {
        prompt: JSON.stringify(PERSON),
        model_type: 'fast',
        speed_mode: 'Juiced 🔥 (more speed)',
        resolution: '768 × 1360 (Portrait)',
        seed: 7,
        output_format: 'webp',
        output_quality: 100,
        negative_prompt: '',
      },
    });
    const face = readStored(h, out.face_image_url);
    expect(creates[1]!.json).toEqual({
      input: {
        prompt: REACTION.final_prompt,
        negative_prompt: 'blurry',
        start_image: `data:image/png;base64,${face.toString('base64')}`,
        aspect_ratio: '9:16',
        duration: 10,
        generate_audio: false,
      },
    });

    // Every URL is ours; the final video is the slowed, captioned render of the re-hosted raw video.
    for (const url of [out.face_image_url, out.raw_video_url, out.final_video_url]) expect(h.storage.keyFromUrl(url)).not.toBeNull();
    expect(out.providers).toEqual({ prompts: 'openai', image: 'replicate', video: 'replicate' });
    // What each call used, as the providers reported it (OpenAI `usage`, Replicate `metrics.predict_time`).
    expect(out.usage).toEqual([
      { step: 'prompts', provider: 'openai', model: 'openai/gpt-4o-mini', input_tokens: 10, output_tokens: 10 },
      { step: 'prompts', provider: 'openai', model: 'openai/gpt-4o-mini', input_tokens: 10, output_tokens: 10 },
      { step: 'face', provider: 'replicate', model: 'hidream-fast', predict_time: 2.5 },
      { step: 'video', provider: 'replicate', model: 'kling-v2.6', predict_time: 2.5 },
    ]);
    const raw = ffprobe(storedPath(h, out.raw_video_url));
    const final = ffprobe(storedPath(h, out.final_video_url));
    expect(raw.streams[0]!.codec_name).toBe('h264');
    expect(Number(final.format.duration) / Number(raw.format.duration)).toBeCloseTo(1 / 0.7, 1);
    // The model made no sound (generate_audio false): the final video has none either.
    expect(raw.streams.some((st) => st.codec_type === 'audio')).toBe(false);
    expect(final.streams.some((st) => st.codec_type === 'audio')).toBe(false);
  }, 180_000);
});

const audioOf = (p: Probe) => p.streams.find((st) => st.codec_type === 'audio');

/** The tone's frequency from zero crossings of decoded mono 16 kHz samples (the fake's clips carry 440 Hz). */
function toneHz(samples: Int16Array): number {
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if (samples[i - 1]! < 0 !== samples[i]! < 0) crossings++;
  return crossings / 2 / (samples.length / 16_000);
}

describe("RubyWorkflow keeps the video model's sound", () => {
  it('slowed with the video at the same pitch; keys the models do not know are dropped with warnings', async () => {
    const before = replicate.requests.length;
    const run = await runWorkflow<RubyOutput>(
      h,
      RUBY_WORKFLOW,
      {
        text_overlay: 'listen',
        // The Python docs' own examples, with the default models (nano-banana, kling-v2.6).
        image_model_params: { speed_mode: 'Extra Juiced 🚀' },
        video_model_params: { camera_fixed: false, generate_audio: true },
      },
      { timeoutMs: 150_000 },
    );
    expect(run.error).toBeUndefined();
    const out = run.result!;
    expect(out.warnings).toEqual([
      'image_model_params.speed_mode was ignored: nano-banana has no such parameter',
      'video_model_params.camera_fixed was ignored: kling-v2.6 has no such parameter',
    ]);
    const creates = replicate.requests.slice(before).filter((r) => r.method === 'POST' && r.path.endsWith('/predictions'));
    const inputs = creates.map((c) => (c.json as { input: Record<string, unknown> }).input);
    expect(inputs).toHaveLength(2);
    expect(inputs[0]).not.toHaveProperty('speed_mode');
    expect(inputs[1]).not.toHaveProperty('camera_fixed');
    expect(inputs[1]).toMatchObject({ generate_audio: true, duration: 5 });

    const raw = ffprobe(storedPath(h, out.raw_video_url));
    const final = ffprobe(storedPath(h, out.final_video_url));
    expect(Number(raw.format.duration)).toBeCloseTo(5, 1);
    const finalSeconds = Number(final.format.duration);
    expect(finalSeconds).toBeCloseTo(5 / 0.7, 1);
    const audio = audioOf(final);
    expect(audio?.codec_name).toBe('aac');
    expect(Number(audio!.duration)).toBeCloseTo(finalSeconds, 1);
    // atempo keeps the pitch: still 440 Hz, not 440 × 0.7 = 308 Hz as a resampled slow-down would sound.
    expect(toneHz(decodeAudio(storedPath(h, out.raw_video_url)))).toBeCloseTo(440, -1);
    expect(toneHz(decodeAudio(storedPath(h, out.final_video_url)))).toBeCloseTo(440, -1);
  }, 180_000);

  it('unchanged in length when there is no slow motion (seedance, caption only)', async () => {
    const run = await runWorkflow<RubyOutput>(
      h,
      RUBY_WORKFLOW,
      {
        text_overlay: 'no slow-mo',
        slowed_video: false,
        aspect_ratio: '3:4',
        video_model: 'seedance-1.5-pro',
        video_duration: 6,
        video_model_params: { generate_audio: true, camera_fixed: true },
      },
      { timeoutMs: 150_000 },
    );
    expect(run.error).toBeUndefined();
    const out = run.result!;
    expect(out.warnings).toEqual([]);
    const final = ffprobe(storedPath(h, out.final_video_url));
    expect(Number(final.format.duration)).toBeCloseTo(6, 1);
    expect(Number(audioOf(final)?.duration)).toBeCloseTo(6, 1);
  }, 180_000);
});
