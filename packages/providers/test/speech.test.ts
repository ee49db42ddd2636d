import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCartesia, createElevenLabs, createProviderLimiter, createSpeech, ProviderError } from '../src/index.js';
import { startFakeCartesia, startFakeElevenLabs, type FakeSpeech } from './fakes/speech.js';

const run = promisify(execFile);
let dir: string;
let el: FakeSpeech;
let ca: FakeSpeech;
beforeAll(async () => {
  [dir, el, ca] = await Promise.all([mkdtemp(join(tmpdir(), 'speech-')), startFakeElevenLabs(), startFakeCartesia()]);
});
afterAll(async () => {
  await Promise.all([el?.close(), ca?.close()]);
  await rm(dir, { recursive: true, force: true });
});

async function probe(data: Buffer, name: string): Promise<{ codec: string; duration: number; format: string }> {
  const file = join(dir, name);
  await writeFile(file, data);
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_name:format=format_name,duration',
    '-of',
    'json',
    file,
  ]);
  const j = JSON.parse(stdout) as { streams: Array<{ codec_name: string }>; format: { format_name: string; duration: string } };
  return { codec: j.streams[0]!.codec_name, duration: Number(j.format.duration), format: j.format.format_name };
}

const text = 'Forty characters of text to be spoken!!'; // 40 chars → 2.0 s in the fakes
const speech = () =>
  createSpeech(
    {},
    {
      elevenlabs: createElevenLabs(
        { ELEVENLABS_API_KEY: 'el-test-key-0123456789', ELEVENLABS_BASE_URL: el.url },
        { limiter: createProviderLimiter('elevenlabs', 2) },
      ),
      cartesia: createCartesia(
        { CARTESIA_API_KEY: 'sk_car_test_0123456789', CARTESIA_BASE_URL: ca.url },
        { limiter: createProviderLimiter('cartesia', 2) },
      ),
    },
  );

describe('speech', () => {
  it('ElevenLabs: a real MP3 with every setting sent', async () => {
    const r = await speech().synthesize({
      provider: 'elevenlabs',
      text,
      voiceId: 'voice123',
      modelId: 'eleven_turbo_v2_5',
      stability: 0.3,
      similarityBoost: 0.9,
      speed: 1.1,
      language: 'de',
    });
    expect(r).toMatchObject({ contentType: 'audio/mpeg', provider: 'elevenlabs' });
    const p = await probe(r.data, 'el.mp3');
    expect(p.codec).toBe('mp3');
    expect(p.duration).toBeGreaterThan(1.9);
    expect(p.duration).toBeLessThan(2.2);
    const req = el.requests.at(-1)!;
    expect(req.path).toBe('/v1/text-to-speech/voice123');
    expect(req.json).toEqual({
      text,
      model_id: 'eleven_turbo_v2_5',
      language_code: 'de',
      voice_settings: { stability: 0.3, similarity_boost: 0.9, style: 0, use_speaker_boost: true, speed: 1.1 },
    });
  });

  it('ElevenLabs: the multilingual v2 default model gets no language_code (it detects the language)', async () => {
    await speech().synthesize({ provider: 'elevenlabs', text: 'hola', language: 'es' });
    expect(el.requests.at(-1)!.path).toBe('/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM');
    expect(el.requests.at(-1)!.json).toEqual({
      text: 'hola',
      model_id: 'eleven_multilingual_v2',
      voice_settings: { stability: 0.5, similarity_boost: 0.75, style: 0, use_speaker_boost: true },
    });
  });

  it('Cartesia: an MP3 container (never raw PCM) with speed and language sent', async () => {
    const r = await speech().synthesize({ provider: 'cartesia', text, voiceId: 'v-1', speed: 0.8, language: 'fr' });
    expect(r).toMatchObject({ contentType: 'audio/mpeg', provider: 'cartesia' });
    const p = await probe(r.data, 'ca.mp3');
    expect(p.codec).toBe('mp3');
    expect(p.duration).toBeGreaterThan(1.9);
    expect(p.duration).toBeLessThan(2.2);
    const req = ca.requests.at(-1)!;
    expect(req.json).toMatchObject({
      model_id: 'sonic-3',
      transcript: text,
      voice: { mode: 'id', id: 'v-1' },
      output_format: { container: 'mp3', sample_rate: 44100, bit_rate: 128000 },
      language: 'fr',
      generation_config: { speed: 0.8 },
    });
  });

  it('Cartesia WAV container is a WAV that ffprobe reads as PCM', async () => {
    const c = createCartesia(
      { CARTESIA_API_KEY: 'sk_car_test_0123456789', CARTESIA_BASE_URL: ca.url },
      { limiter: createProviderLimiter('cartesia', 1) },
    );
    const r = await c.synthesize({ text, container: 'wav' });
    expect(r.contentType).toBe('audio/wav');
    const p = await probe(r.data, 'ca.wav');
    expect(p).toMatchObject({ codec: 'pcm_s16le', format: 'wav' });
    expect(p.duration).toBeCloseTo(2, 1);
  });

  it('a 200 answer that is not audio is invalid_output, never stored as MP3', async () => {
    el.override = { body: Buffer.from('<html>oops</html>'), contentType: 'audio/mpeg' };
    try {
      const err = (await speech()
        .synthesize({ provider: 'elevenlabs', text })
        .catch((e: unknown) => e)) as ProviderError;
      expect(err).toBeInstanceOf(ProviderError);
      expect(err.code).toBe('invalid_output');
    } finally {
      el.override = undefined;
    }
  });

  it('429 waits for Retry-After and succeeds; 5xx retried; 401 typed and not retried', async () => {
    el.failures.push({ status: 429, retryAfter: '1' }, { status: 503 });
    const n = el.requests.length;
    const t0 = Date.now();
    const r = await speech().synthesize({ provider: 'elevenlabs', text: 'short' });
    expect(r.provider).toBe('elevenlabs');
    expect(el.requests.length - n).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    const bad = createElevenLabs(
      { ELEVENLABS_API_KEY: 'wrong-key-abcdefghijklmnop', ELEVENLABS_BASE_URL: el.url },
      { limiter: createProviderLimiter('elevenlabs', 1) },
    );
    const m = el.requests.length;
    const err = (await bad.synthesize({ text: 'x' }).catch((e: unknown) => e)) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.code).toBe('auth');
    expect(err.retryable).toBe(false);
    expect(err.message).not.toContain('wrong-key');
    expect(el.requests.length - m).toBe(1);
  });

  it('no key: the local voice is a real WAV whose length follows the text', async () => {
    const r = await createSpeech({}).synthesize({ provider: 'elevenlabs', text: 'x'.repeat(100) });
    expect(r).toMatchObject({ contentType: 'audio/wav', provider: 'local' });
    const p = await probe(r.data, 'local.wav');
    expect(p).toMatchObject({ codec: 'pcm_s16le', format: 'wav' });
    expect(p.duration).toBeCloseTo(7, 1);
  });
});
