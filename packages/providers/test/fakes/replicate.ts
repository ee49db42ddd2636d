/**
 * A fake Replicate API (the subset the SDK uses): POST /v1/models/{owner}/{name}/predictions,
 * GET /v1/predictions/{id}, POST /v1/predictions/{id}/cancel, GET /v1/predictions (the account's predictions, newest
 * first, 100 a page with a `next` URL, `created_after`/`created_before` filters, as Replicate's list endpoint answers),
 * plus /files/{id}.{ext} serving the outputs.
 * Every request is recorded. Behaviour per test through `script`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng, renderClip, renderPortrait } from '@gptmarket/offline';
import { sendBytes, sendJson, startFake, type FakeServer } from './http.js';

export interface FakePrediction {
  id: string;
  model: string;
  input: Record<string, unknown>;
  status: 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled';
  polls: number;
  error: string | null;
  created_at: string;
  /** When the create's answer (with the id) was sent; until then the client cannot know the prediction. */
  answeredAt?: number;
  /** When it reached its final status (epoch ms). */
  finishedAt?: number;
}

export interface ReplicateScript {
  /** Polls before a prediction finishes (default 1). */
  pollsToFinish: number;
  /** Final status (default succeeded). */
  outcome: 'succeeded' | 'failed';
  failReason: string;
  /** Respond to the next N creates with this status (e.g. 429, 500, 422). */
  createFailures: Array<{ status: number; retryAfter?: string }>;
  getFailures: Array<{ status: number; retryAfter?: string }>;
  /** Output shape: a string URL (default), a list, or nothing. */
  outputShape: 'string' | 'list' | 'empty';
  /**
   * Milliseconds a create takes to answer; the prediction exists (and is billed) from the start, as on Replicate,
   * so a client that dies meanwhile never learns its id.
   */
  createDelayMs: number;
  /** Frame size of a clip with sound (default 64x96; real models answer 720p or more). */
  videoSize: string;
  /** `metrics.predict_time` (seconds) a finished prediction reports (default 2.5). */
  predictTime: number;
}

export interface FakeReplicate extends FakeServer {
  baseUrl: string;
  predictions: Map<string, FakePrediction>;
  script: ReplicateScript;
  creates(): number;
  cancels(): string[];
}

let sample: { png: Buffer; mp4: Buffer } | undefined;
function samples() {
  if (!sample) {
    const image = renderPortrait({ width: 64, height: 96, seed: 'fake' });
    sample = { png: encodePng(image), mp4: renderClip({ image, width: 64, height: 96, fps: 24, durationSeconds: 1 }) };
  }
  return sample;
}

const withSound = new Map<string, Buffer>();
/**
 * What Kling and Seedance return with `generate_audio: true`: an MP4 of the requested duration whose
 * H.264 video carries an AAC soundtrack (here a 440 Hz tone under a test pattern), made by FFmpeg.
 */
function clipWithSound(seconds: number, size: string): Buffer {
  const cacheKey = `${seconds}@${size}`;
  let clip = withSound.get(cacheKey);
  if (!clip) {
    const dir = mkdtempSync(join(tmpdir(), 'fake-replicate-'));
    try {
      const file = join(dir, 'clip.mp4');
      execFileSync('ffmpeg', [
        '-v',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        `testsrc=size=${size}:rate=24:duration=${seconds}`,
        '-f',
        'lavfi',
        '-i',
        `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
        '-c:v',
        'libx264',
        '-pix_fmt',
        'yuv420p',
        '-c:a',
        'aac',
        '-shortest',
        file,
      ]);
      clip = readFileSync(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    withSound.set(cacheKey, clip);
  }
  return clip;
}

export async function startFakeReplicate(partial: Partial<ReplicateScript> = {}): Promise<FakeReplicate> {
  const script: ReplicateScript = {
    pollsToFinish: 1,
    outcome: 'succeeded',
    failReason: 'NSFW content detected',
    createFailures: [],
    getFailures: [],
    outputShape: 'string',
    createDelayMs: 0,
    videoSize: '64x96',
    predictTime: 2.5,
    ...partial,
  };
  const predictions = new Map<string, FakePrediction>();
  let n = 0;
  let self: FakeServer;
  const view = (p: FakePrediction) => {
    const isVideo = /kling|seedance/.test(p.model);
    const url = `${self.url}/files/${p.id}.${isVideo ? 'mp4' : 'png'}`;
    const output = p.status !== 'succeeded' || script.outputShape === 'empty' ? null : script.outputShape === 'list' ? [url] : url;
    return {
      id: p.id,
      model: p.model,
      version: 'hidden',
      input: p.input,
      status: p.status,
      output,
      error: p.error,
      logs: '',
      source: 'api',
      created_at: p.created_at,
      // A finished prediction reports its timings (Replicate's prediction object: `metrics.predict_time`, `total_time`).
      ...(p.finishedAt
        ? {
            completed_at: new Date(p.finishedAt).toISOString(),
            metrics: { predict_time: script.predictTime, total_time: (p.finishedAt - Date.parse(p.created_at)) / 1000 },
          }
        : {}),
      urls: { get: `${self.url}/v1/predictions/${p.id}`, cancel: `${self.url}/v1/predictions/${p.id}/cancel` },
    };
  };
  self = await startFake(async (req, res) => {
    if (req.path.startsWith('/files/')) {
      const s = samples();
      if (!req.path.endsWith('.mp4')) return sendBytes(res, 200, s.png, 'image/png');
      const input = predictions.get(req.path.slice('/files/'.length, -'.mp4'.length))?.input;
      const sound = input?.generate_audio === true;
      const clip = sound ? clipWithSound(typeof input.duration === 'number' ? input.duration : 5, script.videoSize) : s.mp4;
      return sendBytes(res, 200, clip, 'video/mp4');
    }
    if (req.headers.authorization !== 'Bearer r8_test_key_0123456789') return sendJson(res, 401, { detail: 'Unauthenticated' });
    const create = /^\/v1\/models\/([^/]+)\/([^/]+)\/predictions$/.exec(req.path);
    if (req.method === 'POST' && create) {
      const f = script.createFailures.shift();
      if (f)
        return sendJson(
          res,
          f.status,
          { title: 'error', detail: `fake create failure ${f.status}` },
          f.retryAfter ? { 'retry-after': f.retryAfter } : {},
        );
      const body = req.json as { input: Record<string, unknown> };
      const p: FakePrediction = {
        id: `pred${++n}x${Date.now().toString(36)}`,
        model: `${create[1]}/${create[2]}`,
        input: body.input,
        status: 'starting',
        polls: 0,
        error: null,
        created_at: new Date().toISOString(),
      };
      predictions.set(p.id, p);
      if (script.createDelayMs > 0) await new Promise((r) => setTimeout(r, script.createDelayMs));
      sendJson(res, 201, view(p));
      p.answeredAt = Date.now();
      return;
    }
    if (req.method === 'GET' && req.path === '/v1/predictions') {
      const after = req.query.get('created_after');
      const before = req.query.get('created_before');
      const all = [...predictions.values()].filter((p) => (!after || p.created_at > after) && (!before || p.created_at < before)).reverse();
      const offset = Number(req.query.get('cursor') ?? 0);
      const next = new URL(`${self.url}/v1/predictions`);
      for (const [k, v] of req.query) if (k !== 'cursor') next.searchParams.set(k, v);
      next.searchParams.set('cursor', String(offset + 100));
      return sendJson(res, 200, {
        previous: null,
        next: offset + 100 < all.length ? next.toString() : null,
        results: all.slice(offset, offset + 100).map(view),
      });
    }
    const get = /^\/v1\/predictions\/([^/]+)$/.exec(req.path);
    if (req.method === 'GET' && get) {
      const f = script.getFailures.shift();
      if (f)
        return sendJson(res, f.status, { detail: `fake get failure ${f.status}` }, f.retryAfter ? { 'retry-after': f.retryAfter } : {});
      const p = predictions.get(get[1]!);
      if (!p) return sendJson(res, 404, { detail: 'Not found.' });
      if (p.status === 'starting' || p.status === 'processing') {
        p.polls++;
        if (p.polls >= script.pollsToFinish) {
          p.status = script.outcome;
          if (script.outcome === 'failed') p.error = script.failReason;
          p.finishedAt = Date.now();
        } else p.status = 'processing';
      }
      return sendJson(res, 200, view(p));
    }
    const cancel = /^\/v1\/predictions\/([^/]+)\/cancel$/.exec(req.path);
    if (req.method === 'POST' && cancel) {
      const p = predictions.get(cancel[1]!);
      if (!p) return sendJson(res, 404, { detail: 'Not found.' });
      if (p.status === 'starting' || p.status === 'processing') p.status = 'canceled';
      return sendJson(res, 200, view(p));
    }
    return sendJson(res, 404, { detail: `no route ${req.method} ${req.path}` });
  });
  return Object.assign(self, {
    baseUrl: `${self.url}/v1`,
    predictions,
    script,
    creates: () => self.requests.filter((r) => r.method === 'POST' && /\/predictions$/.test(r.path)).length,
    cancels: () => self.requests.filter((r) => /\/cancel$/.test(r.path)).map((r) => r.path.split('/')[3]!),
  });
}

export const FAKE_REPLICATE_KEY = 'r8_test_key_0123456789';
