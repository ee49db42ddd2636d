/**
 * Issue-4 workflows against the provider fakes (local HTTP servers speaking each provider's protocol, the
 * real clients pointed at them): Pinterest through GPTMarket + Gemini, voice-over through ElevenLabs.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  ERROR_TYPES,
  PINTEREST_QUERY_MODEL,
  SLIDESHOWS_PINTEREST_WORKFLOW,
  TRANSCRIPT_SUMMARY_WORKFLOW,
  VOICEOVER_WORKFLOW,
  type SlideshowsPinterestOutput,
  type TranscriptSummaryOutput,
  type VoiceoverOutput,
} from '@gptmarket/contracts';
import { makeKey } from '@gptmarket/storage';
import { createLocalLlm, encodePng, renderPortrait } from '@gptmarket/offline';
import { createGptMarket, createLlm, createProviderLimiter, createAssemblyAi, createSpeech, createTranscriber } from '@gptmarket/providers';
import { startFakeAssemblyAi, type FakeAssemblyAi } from '../../../packages/providers/test/fakes/assemblyai.js';
import { scraperAnswer, startFakeGptMarket, type FakeGptMarket } from '../../../packages/providers/test/fakes/gptmarket.js';
import { startFakeGemini, type FakeLlm } from '../../../packages/providers/test/fakes/llm.js';
import { startFakeElevenLabs, type FakeSpeech } from '../../../packages/providers/test/fakes/speech.js';
import {
  bestCorrelation,
  decodeAudio,
  ffprobe,
  readStored,
  runWorkflow,
  startHarness,
  storedPath,
  type Harness,
  type RunResult,
} from './harness.js';

const GM_KEY = 'gm-test-key-0123456789';
const GEMINI_KEY = 'AIzaFakeGeminiKey0123456789abcdefghij';
const EL_KEY = 'el-test-key-0123456789';
const AAI_KEY = 'aai-test-key-0123456789';

let h: Harness;
let gm: FakeGptMarket;
let gemini: FakeLlm;
let eleven: FakeSpeech;
let aai: FakeAssemblyAi;
let images: Server;
let imgBase: string;
let work: string;
const served = new Map<string, Buffer>();

const base = { replicate: null, pollMs: 50, maxOutputBytes: 50 * 1024 * 1024 };

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'gptmarket-fakes-'));
  [gm, gemini, eleven, aai] = await Promise.all([
    startFakeGptMarket(GM_KEY),
    startFakeGemini(GEMINI_KEY),
    startFakeElevenLabs(EL_KEY),
    startFakeAssemblyAi(AAI_KEY),
  ]);
  images = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (!body) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
  const port = (images.address() as AddressInfo).port;
  imgBase = `http://127.0.0.1:${port}`;
  h = await startHarness();
  const downloadPolicy = { allowHosts: [`127.0.0.1:${port}`] };
  await h.addGenerationWorker('fakes-queue', {
    providers: {
      ...base,
      downloadPolicy,
      llm: createLlm({ GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: gemini.url }),
      gptmarket: createGptMarket(
        { GPTMARKET_API_URL: gm.baseUrl, GPTMARKET_API_KEY: GM_KEY },
        { limiter: createProviderLimiter('gptmarket', 4) },
      ),
      speech: createSpeech({ ELEVENLABS_API_KEY: EL_KEY, ELEVENLABS_BASE_URL: eleven.url }),
      transcriber: createTranscriber(
        {},
        {
          assemblyai: createAssemblyAi(
            { ASSEMBLYAI_API_KEY: AAI_KEY, ASSEMBLYAI_BASE_URL: aai.url },
            { limiter: createProviderLimiter('assemblyai', 2) },
          ),
          pollMs: 20,
        },
      ),
    },
  });
  // A worker whose GPTMarket key is wrong: every search fails with 401.
  await h.addGenerationWorker('fakes-badkey-queue', {
    providers: {
      ...base,
      downloadPolicy,
      llm: createLocalLlm(),
      gptmarket: createGptMarket(
        { GPTMARKET_API_URL: gm.baseUrl, GPTMARKET_API_KEY: 'wrong-key-wrong-key-0000' },
        { limiter: createProviderLimiter('gptmarket', 4) },
      ),
    },
  });
}, 180_000);

afterAll(async () => {
  await h?.stop();
  await Promise.all([gm?.close(), gemini?.close(), eleven?.close(), aai?.close()]);
  images?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function failureOf(run: RunResult<unknown>): ApplicationFailure {
  expect(run.error).toBeInstanceOf(WorkflowFailedError);
  const cause = (run.error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

const pin = (id: string, url: string, extra: Record<string, unknown> = {}) => ({
  id,
  title: `Pin ${id}`,
  description: `A calm picture ${id}`,
  image_url: url,
  aspect_ratio: '9:16',
  image_width: 720,
  image_height: 1280,
  ...extra,
});
const servePng = (path: string, seed: string) => {
  served.set(path, encodePng(renderPortrait({ width: 90, height: 160, seed })));
  return `${imgBase}${path}`;
};
const answer = (pins: unknown[]) => ({ status: 200, body: scraperAnswer(pins, 'q') });

describe('SlideshowsPinterestWorkflow through GPTMarket and Gemini fakes', () => {
  it("uses the model's first 5 queries, scrapes 2 pages each, saves the images and reports the failed ones", async () => {
    const queries = [
      'autumn cabin interior',
      'cozy fireplace aesthetic',
      'forest cabin mood',
      'rainy window reading',
      'warm knit blankets',
      'sixth is dropped',
    ];
    gemini.replies.push({ content: JSON.stringify({ queries }) });
    const a = servePng('/img/a.png', 'a');
    const b = servePng('/img/b.png', 'b');
    const c = servePng('/img/c.png', 'c');
    const d = servePng('/img/d.png', 'd');
    const f = servePng('/img/f.png', 'f');
    const missing = `${imgBase}/img/missing.png`;
    const blocked = 'http://127.0.0.1:9/img/blocked.png';
    gm.replies.push(
      answer([pin('a', a), pin('b', b), pin('missing', missing)]),
      answer([pin('a-again', a), pin('c', c), pin('blocked', blocked)]),
      answer([pin('d', d), pin('e-landscape', servePng('/img/e.png', 'e'), { aspect_ratio: '2:3' })]),
      { status: 400, body: { error: 'bad query' } },
      answer([pin('f', f)]),
    );
    const run = await runWorkflow<SlideshowsPinterestOutput>(
      h,
      SLIDESHOWS_PINTEREST_WORKFLOW,
      { prompt: 'a cozy autumn cabin' },
      { taskQueue: 'fakes-queue' },
    );
    expect(run.error).toBeUndefined();
    const out = run.result!;

    // Query generation: Gemini (flash-lite), first 5 queries.
    const call = gemini.calls()[0]!;
    expect(call.path).toContain(PINTEREST_QUERY_MODEL);
    expect(JSON.stringify(call.json)).toContain('a cozy autumn cabin');
    expect(out.queries_used).toEqual(queries.slice(0, 5));

    // Scraping: one request per query, 2 pages, in the documented shape.
    const scrapes = gm.requests.filter((r) => r.path === '/api/v1/scraping/pins');
    expect(scrapes).toHaveLength(5);
    for (const r of scrapes) {
      expect(r.headers['x-api-key']).toBe(GM_KEY);
      const body = r.json as { search_query: string; search_type: string; pages: number };
      expect(body.pages).toBe(2);
      expect(body.search_type).toBe('social_media');
    }
    expect(scrapes.map((r) => (r.json as { search_query: string }).search_query).sort()).toEqual(queries.slice(0, 5).sort());

    // 8 pins came back (the 2:3 one is dropped by the scraper client); 7 unique URLs selected.
    expect(out.total_scraped).toBe(8);
    // Replies are served in arrival order, so either copy of the duplicated image may come first.
    const source = (id: string) => `/img/${id.replace('-again', '')}.png`;
    expect(out.images.map((i) => source(i.id)).sort()).toEqual(['a', 'b', 'c', 'd', 'f'].map((x) => `/img/${x}.png`));
    for (const img of out.images) {
      expect(readStored(h, img.image_url).equals(served.get(source(img.id))!)).toBe(true);
      expect(img.image_url).toMatch(/\/pinterest\/images\/.+\.png$/);
    }
    expect(out.failed_uploads.map((f) => f.image_url).sort()).toEqual([blocked, missing].sort());
    expect(out.failed_uploads.find((f) => f.image_url === missing)!.error).toContain('404');
    expect(out.failed_uploads.find((f) => f.image_url === blocked)!.error).toContain('address is not public');
    expect(out.warnings.some((w) => w.includes('2 of 7 selected images could not be saved'))).toBe(true);
    expect(out.warnings.some((w) => w.startsWith('1 of 5 Pinterest queries failed'))).toBe(true);
  });

  it('returns an empty result when every search finds nothing (no error)', async () => {
    gemini.replies.push({ content: JSON.stringify({ queries: ['q one', 'q two', 'q three', 'q four', 'q five'] }) });
    for (let i = 0; i < 5; i++) gm.replies.push(answer([]));
    const run = await runWorkflow<SlideshowsPinterestOutput>(
      h,
      SLIDESHOWS_PINTEREST_WORKFLOW,
      { prompt: 'nothing at all' },
      { taskQueue: 'fakes-queue' },
    );
    expect(run.error).toBeUndefined();
    expect(run.result).toEqual({
      images: [],
      queries_used: ['q one', 'q two', 'q three', 'q four', 'q five'],
      total_scraped: 0,
      failed_uploads: [],
      warnings: [],
    });
  });

  it('searches for the prompt itself when the model gives no usable queries', async () => {
    gemini.replies.push({ content: JSON.stringify({ answer: 'not what was asked' }) });
    gm.replies.push(answer([pin('only', servePng('/img/only.png', 'only'))]));
    const run = await runWorkflow<SlideshowsPinterestOutput>(
      h,
      SLIDESHOWS_PINTEREST_WORKFLOW,
      { prompt: '  lone pine  ' },
      { taskQueue: 'fakes-queue' },
    );
    expect(run.error).toBeUndefined();
    expect(run.result!.queries_used).toEqual(['lone pine']);
    expect(run.result!.images.map((i) => i.id)).toEqual(['only']);
    expect(run.result!.warnings).toEqual(['The query model returned no usable queries: searched for the prompt itself']);
    expect((gm.requests.at(-1)!.json as { search_query: string }).search_query).toBe('lone pine');
  });

  it('fails with "All Pinterest queries failed: ..." when every search fails', async () => {
    const before = gm.requests.length;
    const run = await runWorkflow(h, SLIDESHOWS_PINTEREST_WORKFLOW, { prompt: 'winter lake' }, { taskQueue: 'fakes-badkey-queue' });
    const failure = failureOf(run);
    expect(failure.message.startsWith('All Pinterest queries failed: ')).toBe(true);
    expect(failure.type).toBe(ERROR_TYPES.provider);
    expect(failure.nonRetryable).toBe(true);
    // Each of the 5 queries is named with its error; a 401 is not retried.
    expect(failure.message.split('; ')).toHaveLength(5);
    expect(gm.requests.length - before).toBe(5);
    expect(run.steps[run.steps.length - 1]).toMatchObject({ step_id: 'scrape', status: 'failed', progress_pct: 50 });
    expect(run.statuses[run.statuses.length - 1]).toBe('failed');
  });
});

describe('VoiceoverWorkflow through the ElevenLabs fake', () => {
  it('sends every voice setting, stores the MP3 and puts it under a video of ours', async () => {
    const clip = join(work, 'clip.mp4');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240:rate=24:duration=4',
      '-f',
      'lavfi',
      '-i',
      'anoisesrc=d=4:a=0.3',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-shortest',
      clip,
    ]);
    const stored = await h.storage.put(makeKey('uploads', 'mp4'), readFileSync(clip), { contentType: 'video/mp4' });
    const text = 'Welcome to the cabin. Tonight we light the fire.';
    const run = await runWorkflow<VoiceoverOutput>(
      h,
      VOICEOVER_WORKFLOW,
      {
        text,
        provider: 'elevenlabs',
        voice_id: 'Voice0123456789abcdef',
        model_id: 'eleven_turbo_v2_5',
        stability: 0.3,
        similarity_boost: 0.9,
        speed: 1.1,
        language: 'de',
        video_url: stored.url,
      },
      { taskQueue: 'fakes-queue' },
    );
    expect(run.error).toBeUndefined();
    const out = run.result!;
    expect(out.provider).toBe('elevenlabs');
    expect(out.warnings).toEqual([]);

    const req = eleven.requests.find((r) => r.path === '/v1/text-to-speech/Voice0123456789abcdef')!;
    expect(req).toBeDefined();
    const body = req.json as {
      text: string;
      model_id: string;
      voice_settings: { stability: number; similarity_boost: number; speed?: number };
    };
    expect(body.text).toBe(text);
    expect(body.model_id).toBe('eleven_turbo_v2_5');
    expect(body.voice_settings.stability).toBe(0.3);
    expect(body.voice_settings.similarity_boost).toBe(0.9);
    expect(body.voice_settings.speed).toBe(1.1);

    expect(out.audio_content_type).toBe('audio/mpeg');
    const audio = ffprobe(storedPath(h, out.audio_url));
    expect(audio.streams.map((s) => `${s.codec_type}/${s.codec_name}`)).toEqual(['audio/mp3']);
    // Duration from ffprobe on the media worker (MP3 does not say it cheaply).
    expect(out.audio_duration_seconds!).toBeCloseTo(Number(audio.format.duration), 1);

    const video = ffprobe(storedPath(h, out.video_url!));
    expect(video.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
    // `replace` (the default): the video's own noise is gone, its audio is the speech.
    const speech = decodeAudio(storedPath(h, out.audio_url));
    const mixed = decodeAudio(storedPath(h, out.video_url!));
    expect(bestCorrelation(speech, mixed, 16000 * 2, 1200)).toBeGreaterThan(0.9);
  });
});

describe('VoiceoverWorkflow: a provider that is not configured', () => {
  it('says in a warning which provider really spoke', async () => {
    const run = await runWorkflow<VoiceoverOutput>(
      h,
      VOICEOVER_WORKFLOW,
      { text: 'Short line.', provider: 'cartesia' },
      { taskQueue: 'fakes-queue' },
    );
    expect(run.error).toBeUndefined();
    expect(run.result!.provider).toBe('elevenlabs');
    expect(run.result!.warnings).toEqual(['cartesia is not configured on this server: the speech was made by elevenlabs']);
  });
});

describe('TranscriptSummaryWorkflow through the AssemblyAI and Gemini fakes', () => {
  it("uploads the extracted audio, stores the speaker transcript and the model's summary", async () => {
    const clip = join(work, 'meeting.mp4');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=160x120:rate=10:duration=2',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=300:duration=2',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-shortest',
      clip,
    ]);
    const stored = await h.storage.put(makeKey('uploads', 'mp4'), readFileSync(clip), { contentType: 'video/mp4' });
    const summary = '# Overview\n\nTwo people greet each other. Decisions: TBD.';
    gemini.replies.push({ content: summary });
    const uploadsBefore = aai.uploads.length;
    const run = await runWorkflow<TranscriptSummaryOutput>(
      h,
      TRANSCRIPT_SUMMARY_WORKFLOW,
      { media_url: stored.url, meeting_date: '2026-11-21' },
      { taskQueue: 'fakes-queue' },
    );
    expect(run.error).toBeUndefined();
    const out = run.result!;
    expect(out.providers).toEqual({ transcription: 'assemblyai', summary: 'gemini' });
    // AssemblyAI got the extracted audio (an MP4/M4A container with AAC), not the video.
    const uploaded = aai.uploads.slice(uploadsBefore);
    expect(uploaded).toHaveLength(1);
    expect(uploaded[0]!.equals(readStored(h, out.audio_url))).toBe(true);
    expect(readStored(h, out.transcript_url).toString('utf8')).toBe('[Speaker A]: Hi.\n\n[Speaker B]: Hello.\n');
    expect(out.transcript_chars).toBe('[Speaker A]: Hi.\n\n[Speaker B]: Hello.'.length);
    expect(out.summary).toBe(summary);
    expect(readStored(h, out.summary_url).toString('utf8')).toBe(`${summary}\n`);
    // The template got the transcript and the meeting date.
    const prompt = JSON.stringify(gemini.calls().at(-1)!.json);
    expect(prompt).toContain('[Speaker B]: Hello.');
    expect(prompt).toContain('2026-11-21');
  });
});
