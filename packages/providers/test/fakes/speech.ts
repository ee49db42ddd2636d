/**
 * Fake ElevenLabs (`POST /v1/text-to-speech/{voice_id}?output_format=mp3_44100_128`, header xi-api-key) and
 * Cartesia (`POST /tts/bytes`, Bearer key, cartesia-version) servers. Audio is real: ffmpeg encodes a sine
 * of `seconds` (default: 0.05 s per character of the text) in the container asked for.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sendBytes, sendJson, startFake, type FakeServer } from './http.js';

const run = promisify(execFile);

export async function ffmpegAudio(seconds: number, format: 'mp3' | 'wav', sampleRate = 44100): Promise<Buffer> {
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=${sampleRate}:duration=${seconds}`,
    '-ac',
    '1',
  ];
  if (format === 'mp3') args.push('-c:a', 'libmp3lame', '-b:a', '128k', '-f', 'mp3', 'pipe:1');
  else args.push('-c:a', 'pcm_s16le', '-f', 'wav', 'pipe:1');
  const { stdout } = await run('ffmpeg', args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export interface FakeSpeech extends FakeServer {
  failures: Array<{ status: number; retryAfter?: string }>;
  /** Answer with this instead of real audio (e.g. raw PCM or an HTML error page with 200). */
  override?: { body: Buffer; contentType: string } | undefined;
}

const secondsFor = (text: string) => Math.max(0.5, Math.round(text.length * 0.05 * 10) / 10);

export async function startFakeElevenLabs(key = 'el-test-key-0123456789'): Promise<FakeSpeech> {
  const state: { failures: FakeSpeech['failures']; override?: FakeSpeech['override'] } = { failures: [] };
  let self: FakeSpeech = state as FakeSpeech;
  const server = await startFake(async (req, res) => {
    if (req.headers['xi-api-key'] !== key) return sendJson(res, 401, { detail: { status: 'invalid_api_key', message: 'Invalid API key' } });
    const m = /^\/v1\/text-to-speech\/([^/]+)$/.exec(req.path);
    if (req.method !== 'POST' || !m) return sendJson(res, 404, { detail: 'Not Found' });
    const f = self.failures.shift();
    if (f)
      return sendJson(
        res,
        f.status,
        { detail: { status: 'error', message: `fake failure ${f.status}` } },
        f.retryAfter ? { 'retry-after': f.retryAfter } : {},
      );
    if (req.query.get('output_format') !== 'mp3_44100_128')
      return sendJson(res, 422, { detail: 'output_format must be mp3_44100_128 here' });
    if (self.override) return sendBytes(res, 200, self.override.body, self.override.contentType);
    const text = (req.json as { text: string }).text;
    return sendBytes(res, 200, await ffmpegAudio(secondsFor(text), 'mp3'), 'audio/mpeg');
  });
  self = Object.assign(server, state) as FakeSpeech;
  return self;
}

export async function startFakeCartesia(key = 'sk_car_test_0123456789'): Promise<FakeSpeech> {
  const state: { failures: FakeSpeech['failures']; override?: FakeSpeech['override'] } = { failures: [] };
  const self = Object.assign(
    await startFake(async (req, res) => {
      if (req.headers.authorization !== `Bearer ${key}`) return sendJson(res, 401, { error: 'Invalid API key' });
      if (req.method !== 'POST' || req.path !== '/tts/bytes') return sendJson(res, 404, { error: 'not found' });
      if (!req.headers['cartesia-version']) return sendJson(res, 400, { error: 'Cartesia-Version header is required' });
      const f = self.failures.shift();
      if (f) return sendJson(res, f.status, { error: `fake failure ${f.status}` }, f.retryAfter ? { 'retry-after': f.retryAfter } : {});
      if (self.override) return sendBytes(res, 200, self.override.body, self.override.contentType);
      const body = req.json as { transcript: string; output_format: { container: string; sample_rate: number } };
      const c = body.output_format.container;
      if (c !== 'mp3' && c !== 'wav') return sendBytes(res, 200, Buffer.alloc(8000), 'application/octet-stream'); // raw PCM
      return sendBytes(
        res,
        200,
        await ffmpegAudio(secondsFor(body.transcript), c, body.output_format.sample_rate),
        c === 'mp3' ? 'audio/mpeg' : 'audio/wav',
      );
    }),
    state,
  ) as FakeSpeech;
  return self;
}
