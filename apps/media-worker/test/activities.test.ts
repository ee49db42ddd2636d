import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaProbe, RenderPlanInput, RenderResult, StoredMedia } from '@gptmarket/contracts';
import { makeKey, S3Storage } from '@gptmarket/storage';
import { startS3, type S3Server } from '@gptmarket/testkit';
import { createMediaActivities, type MediaActivityDeps } from '../src/activities.js';
import { FfmpegError, runFfmpeg } from '../src/ffmpeg/run.js';
import { audioStream, ffmpegPids, ffprobe, makeClip, makeTone, noisyFrames, tempDir, videoStream } from './helpers.js';

let s3: S3Server;
let storage: S3Storage;
let dir: string;
let clipUrl: string; // in our storage
let slowClipUrl: string;
let http: Server; // an "allowed" host (the operator's MEDIA_ALLOWED_HOSTS)
let httpBase: string;
let victim: Server; // a private service nobody may reach
let victimPort: number;
let victimHits = 0;

const files: Record<string, string> = {};

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  dir = tempDir('mw-act-');
  s3 = await startS3('media-activities');
  storage = new S3Storage({
    kind: 's3',
    bucket: s3.bucket,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    endpoint: s3.endpoint,
    presignSeconds: 600,
  });
  files.clip = makeClip(join(dir, 'clip.mp4'));
  files.tone = makeTone(join(dir, 'tone.m4a'), 1, 880);
  files.slow = makeClip(join(dir, 'slow.mp4'), { seconds: 8, audio: false });
  const put = async (path: string, ext: string, type: string) =>
    (await storage.put(makeKey('inputs', ext), readFileSync(path), { contentType: type })).url;
  clipUrl = await put(files.clip, 'mp4', 'video/mp4');
  slowClipUrl = await put(files.slow, 'mp4', 'video/mp4');

  http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/redirect') {
      res.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
    } else if (url.pathname === '/zeros') {
      // A large body streamed in chunks: the worker must not buffer it.
      const total = Number(url.searchParams.get('bytes'));
      const chunk = Buffer.alloc(1024 * 1024);
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(total) });
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          const n = Math.min(chunk.length, total - sent);
          sent += n;
          if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    } else if (files[url.pathname.slice(1)]) {
      const body = readFileSync(files[url.pathname.slice(1)]!);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) }).end(body);
    } else {
      res.writeHead(404).end();
    }
  });
  httpBase = `http://127.0.0.1:${await listen(http)}`;
  victim = createServer((_req, res) => {
    victimHits++;
    res.end('secret');
  });
  victimPort = await listen(victim);
});

afterAll(async () => {
  http?.close();
  victim?.close();
  await s3?.stop();
});

function setup(over: Partial<MediaActivityDeps> = {}, logger = new DefaultLogger('ERROR')) {
  const tempRoot = tempDir('mw-act-tmp-');
  const deps: MediaActivityDeps = {
    storage,
    policy: { allowHosts: [new URL(httpBase).host] },
    maxInputBytes: 512 * 1024 * 1024,
    tempRoot,
    heartbeatMs: 200,
    ...over,
  };
  // Quiet logger by default: the failures below are expected, and asserted.
  const env = new MockActivityEnvironment(undefined, { logger });
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const activities = createMediaActivities(deps);
  const call = {
    render: (plan: RenderPlanInput) => env.run(() => activities.renderVideo(plan)) as Promise<RenderResult>,
    probe: (req: Parameters<typeof activities.probeMedia>[0]) => env.run(() => activities.probeMedia(req)) as Promise<MediaProbe>,
    extract: (req: Parameters<typeof activities.extractAudio>[0]) => env.run(() => activities.extractAudio(req)) as Promise<StoredMedia>,
  };
  return { call, env, tempRoot, beats };
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'expected a failure').toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('renderVideo through the activity', () => {
  it('renders the Ruby post-processing from our storage, uploads video, poster and preview, and reports progress', async () => {
    const { call, env, tempRoot, beats } = setup();
    const result = await call.render({
      input_url: clipUrl,
      speed: 0.7,
      caption: { text: 'when the code works on the first try', max_chars_per_line: 24, border_width: 4, line_spacing: 12 },
      output: { folder: 'ruby/videos' },
    });
    expect(result.key).toMatch(/^ruby\/videos\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{12}\.mp4$/);
    expect(result).toMatchObject({ content_type: 'video/mp4', width: 320, height: 568, has_audio: false });
    expect(result.duration_seconds).toBeCloseTo(2 / 0.7, 1);
    const out = join(dir, 'activity-out.mp4');
    writeFileSync(out, Buffer.from(await (await fetch(result.url)).arrayBuffer()));
    expect(videoStream(ffprobe(out))).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p' });
    for (const [url, type] of [
      [result.poster_url, 'image/jpeg'],
      [result.preview_url, 'image/gif'],
    ] as const) {
      expect(url).toBeTruthy();
      const res = await fetch(url!);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
    }
    expect(result.poster_url).toContain(result.key.replace(/\.mp4$/, '.jpg'));
    const pcts = beats.map((b) => (b as { pct?: number }).pct).filter((p): p is number => typeof p === 'number');
    expect(pcts).toContain(100);
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it('fetches inputs from an allowed host and replaces the audio with a track', async () => {
    const { call, env } = setup();
    const result = await call.render({
      input_url: `${httpBase}/clip`,
      preserve_audio: true,
      audio: { url: `${httpBase}/tone`, mode: 'replace' },
      output: { folder: 'tests/audio', thumbnails: false },
    });
    expect(result.has_audio).toBe(true);
    expect(result.poster_url).toBeUndefined();
    const out = join(dir, 'replaced.mp4');
    writeFileSync(out, Buffer.from(await (await fetch(result.url)).arrayBuffer()));
    expect(Number(audioStream(ffprobe(out))!.duration)).toBeCloseTo(2, 1);
  });

  it('probes media and extracts audio', async () => {
    const { call, env } = setup();
    const probe = await call.probe({ url: clipUrl });
    expect(probe).toMatchObject({ has_audio: true, video: { codec: 'h264', width: 320, height: 568 }, audio: { codec: 'aac' } });
    expect(probe.duration_seconds).toBeCloseTo(2, 1);
    const audio = await call.extract({ input_url: clipUrl, output: { folder: 'tests/extracted' } });
    expect(audio).toMatchObject({ content_type: 'audio/mp4' });
    expect(audio.key).toMatch(/\.m4a$/);
  });
});

describe('bad inputs fail clearly and without retries', () => {
  it('an input FFmpeg cannot decode is non-retryable', async () => {
    const { call, env, tempRoot } = setup();
    const truncated = readFileSync(files.clip!).subarray(0, 4000);
    const url = (await storage.put(makeKey('inputs', 'mp4'), truncated, { contentType: 'video/mp4' })).url;
    const f = await failureOf(call.render({ input_url: url, output: { folder: 'x' } }));
    expect(f.nonRetryable).toBe(true);
    expect(f.type).toBe('InvalidInputError');
    expect(f.message).toMatch(/cannot decode|not a media file/);
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it('a missing font is a clear non-retryable error, not a fallback', async () => {
    const fontDir = tempDir('mw-nofont-');
    const logs: string[] = [];
    const { call, env } = setup({ fontDir }, new DefaultLogger('WARN', (e) => logs.push(`${e.message} ${JSON.stringify(e.meta ?? {})}`)));
    const f = await failureOf(call.render({ input_url: clipUrl, caption: { text: 'hi', font: 'ARIAL_BLACK' }, output: { folder: 'x' } }));
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toMatch(/ARIAL_BLACK is not installed/);
    expect(f.message).not.toContain(fontDir); // where the worker looked is for its log
    expect(logs.join('\n')).toContain(fontDir);
  });

  it('failures carry no temp paths and no ffprobe/FFmpeg output; the worker log keeps them', async () => {
    const logs: string[] = [];
    const { call, tempRoot } = setup({}, new DefaultLogger('WARN', (e) => logs.push(`${e.message} ${JSON.stringify(e.meta ?? {})}`)));
    // ffprobe refuses the first bytes of a clip; FFmpeg refuses a clip whose index is intact but whose frames are noise.
    const truncated = readFileSync(files.clip!).subarray(0, 4000);
    const noisy = noisyFrames(makeClip(join(dir, 'noisy.mp4'), { audio: false }));
    const cases = [
      ['truncated', truncated, /not a media file FFmpeg can decode/], // refused by ffprobe
      ['noisy', noisy, /cannot be decoded as audio or video/], // probed fine, refused by FFmpeg
    ] as const;
    for (const [name, bytes, expected] of cases) {
      const url = (await storage.put(makeKey('inputs', 'mp4'), bytes, { contentType: 'video/mp4' })).url;
      const f = await failureOf(call.render({ input_url: url, output: { folder: 'x' } }));
      expect(f, name).toMatchObject({ nonRetryable: true, type: 'InvalidInputError' });
      expect(f.message, name).toMatch(expected);
      const shown = `${f.message} ${JSON.stringify(f.details ?? null)}`;
      expect(shown, name).not.toContain(tempRoot);
      expect(shown, name).not.toMatch(/gptmarket-|moov atom|NAL unit|Invalid data found|\/tmp\//);
    }
    const logged = logs.join('\n');
    expect(logged).toMatch(/moov atom not found/); // ffprobe's words, for the operator
    expect(logged).toMatch(/Invalid data found|NAL unit/); // FFmpeg's
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it('an invalid plan is non-retryable', async () => {
    const { call, env } = setup();
    const f = await failureOf(call.render({ input_url: clipUrl, speed: 0, output: { folder: '../x' } } as never));
    expect(f).toMatchObject({ nonRetryable: true, type: 'InvalidInputError' });
  });

  it('a download over the size cap is refused', async () => {
    const { call, env, tempRoot } = setup({ maxInputBytes: 10_000 });
    const f = await failureOf(call.probe({ url: `${httpBase}/zeros?bytes=50000` }));
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toMatch(/exceeds 10000 bytes/);
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it('a failing ffmpeg run reports its stderr lines', async () => {
    const err = await runFfmpeg(['-hide_banner', '-f', 'lavfi', '-i', 'nosuchsource', '-f', 'null', '-']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FfmpegError);
    expect((err as FfmpegError).exitCode).not.toBe(0);
    expect((err as FfmpegError).stderrTail.join('\n')).toMatch(/nosuchsource/);
  });
});

describe('SSRF: private and special addresses are refused, non-retryably, before any byte is fetched', () => {
  const corpus = () => [
    `http://127.0.0.1:${victimPort}/x.mp4`,
    `http://localhost:${victimPort}/x.mp4`,
    `http://[::1]:${victimPort}/x.mp4`,
    `http://[::ffff:127.0.0.1]:${victimPort}/x.mp4`,
    `http://[::ffff:7f00:1]:${victimPort}/x.mp4`,
    `http://2130706433:${victimPort}/x.mp4`,
    `http://0177.0.0.1:${victimPort}/x.mp4`,
    `http://0x7f.1:${victimPort}/x.mp4`,
    `http://0.0.0.0:${victimPort}/x.mp4`,
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://[fe80::1]/x.mp4',
    'http://10.0.0.5/x.mp4',
    'http://172.16.3.4/x.mp4',
    'http://192.168.1.1/x.mp4',
    'http://100.64.0.1/x.mp4',
    `${httpBase}/redirect?to=${encodeURIComponent(`http://127.0.0.1:${victimPort}/x.mp4`)}`,
    `${httpBase}/redirect?to=${encodeURIComponent('http://169.254.169.254/latest/meta-data/')}`,
    `${httpBase}/redirect?to=${encodeURIComponent(`http://[::1]:${victimPort}/x.mp4`)}`,
  ];

  it('refuses every address in the corpus, as a render input, an audio track and a probe', async () => {
    const { call, env, tempRoot } = setup();
    for (const url of corpus()) {
      const asInput = await failureOf(call.render({ input_url: url, output: { folder: 'x' } }));
      expect(asInput.nonRetryable, url).toBe(true);
      expect(asInput.message, url).toMatch(/address is not public/);
      expect(asInput.details, url).toEqual([{ code: 'refused_host' }]); // never which internal names resolve
      const asTrack = await failureOf(call.render({ input_url: clipUrl, audio: { url }, output: { folder: 'x' } }));
      expect(asTrack.nonRetryable, url).toBe(true);
      const asProbe = await failureOf(call.probe({ url }));
      expect(asProbe.nonRetryable, url).toBe(true);
    }
    expect(victimHits).toBe(0);
    expect(readdirSync(tempRoot)).toEqual([]);
  }, 60_000);

  it('an HLS playlist as input cannot make FFmpeg fetch anything', async () => {
    const { call, tempRoot } = setup();
    const playlist = `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nhttp://127.0.0.1:${victimPort}/seg.ts\n#EXT-X-ENDLIST\n`;
    const url = (await storage.put(makeKey('inputs', 'txt'), Buffer.from(playlist), { contentType: 'text/plain' })).url;
    // One at a time: a promise created before the previous one is awaited could reject with no handler yet.
    const attempts = [
      () => call.render({ input_url: url, output: { folder: 'x' } }),
      () => call.probe({ url }),
      () => call.render({ input_url: clipUrl, audio: { url }, output: { folder: 'x' } }),
    ];
    for (const attempt of attempts) {
      const f = await failureOf(attempt());
      expect(f.nonRetryable).toBe(true);
    }
    expect(victimHits).toBe(0);
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it('refuses schemes other than http(s)', async () => {
    const { call, env } = setup();
    for (const url of ['file:///etc/passwd', 'ftp://example.com/x.mp4', 'gopher://127.0.0.1:70/']) {
      const f = await failureOf(call.render({ input_url: url, output: { folder: 'x' } }));
      expect(f.nonRetryable, url).toBe(true);
    }
  });
});

describe('control and resources', () => {
  // A render that keeps ffmpeg busy for many seconds on this machine.
  const slowPlan = () => ({
    input_url: slowClipUrl,
    caption: { text: 'busy' },
    output: { folder: 'x', width: 1080, height: 1920, fps: 60, preset: 'slow' as const },
  });

  it('cancellation kills ffmpeg and removes the temp files', async () => {
    const { call, env, tempRoot, beats } = setup();
    const running = call.render(slowPlan());
    const deadline = Date.now() + 30_000;
    while (ffmpegPids(tempRoot).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(ffmpegPids(tempRoot).length).toBe(1);
    await new Promise((r) => setTimeout(r, 500));
    env.cancel();
    const err = await running.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(ffmpegPids(tempRoot)).toEqual([]);
    expect(readdirSync(tempRoot)).toEqual([]);
    expect(beats.some((b) => (b as { phase?: string }).phase === 'render')).toBe(true);
  });

  it('a render past its time limit is killed and cleaned up', async () => {
    const { call, env, tempRoot } = setup({ renderTimeoutMs: 800 });
    const err = await call.render(slowPlan()).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/timed out/);
    expect(ffmpegPids(tempRoot)).toEqual([]);
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it('a large download streams to disk: memory stays flat', async () => {
    const { call, env, tempRoot } = setup();
    const size = 300 * 1024 * 1024;
    global.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    // 300 MB of zeros: downloaded in full (under the cap), then ffprobe finds no media in it.
    const f = await failureOf(call.probe({ url: `${httpBase}/zeros?bytes=${size}` }));
    clearInterval(sampler);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toMatch(/not a media file/);
    expect(peak - base).toBeLessThan(64 * 1024 * 1024);
    expect(readdirSync(tempRoot)).toEqual([]);
  }, 60_000);
});
