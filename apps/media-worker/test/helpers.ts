import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const tempDir = (prefix = 'mw-test-') => mkdtempSync(join(tmpdir(), prefix));

/** A test clip from lavfi sources: testsrc2 video, optionally a sine tone, with source metadata to be stripped. */
export function makeClip(
  path: string,
  opts: { seconds?: number; width?: number; height?: number; fps?: number; audio?: boolean; freq?: number; color?: string } = {},
): string {
  const { seconds = 2, width = 320, height = 568, fps = 25, audio = true, freq = 440 } = opts;
  const video = opts.color
    ? `color=c=${opts.color}:s=${width}x${height}:r=${fps}:d=${seconds}`
    : `testsrc2=s=${width}x${height}:r=${fps}:d=${seconds}`;
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', video];
  if (audio) args.push('-f', 'lavfi', '-i', `sine=frequency=${freq}:sample_rate=48000:duration=${seconds}`);
  args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p');
  if (audio) args.push('-c:a', 'aac', '-shortest');
  args.push('-metadata', 'title=SOURCE-TITLE', '-metadata', 'comment=source comment', '-metadata', 'artist=Someone', path);
  execFileSync('ffmpeg', args);
  return path;
}

/**
 * The clip's bytes with every frame replaced by noise and its index (moov) intact: ffprobe reads it fine, FFmpeg
 * fails to decode it mid-render.
 */
export function noisyFrames(path: string): Buffer {
  const bytes = Buffer.from(readFileSync(path));
  for (let at = 0; at + 8 <= bytes.length; ) {
    const size = bytes.readUInt32BE(at);
    if (bytes.toString('latin1', at + 4, at + 8) === 'mdat') {
      for (let i = at + 8; i < at + size; i++) bytes[i] = (i * 7919) & 0xff;
      break;
    }
    at += size;
  }
  return bytes;
}

export function makeTone(path: string, seconds: number, freq: number): string {
  execFileSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${freq}:sample_rate=44100:duration=${seconds}`,
    '-c:a',
    'aac',
    path,
  ]);
  return path;
}

export function makeImage(path: string, width = 640, height = 480): string {
  execFileSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=s=${width}x${height}:d=1`,
    '-frames:v',
    '1',
    path,
  ]);
  return path;
}

export interface Probe {
  format: { duration: string; format_name: string; tags?: Record<string, string> };
  streams: Array<Record<string, any>>;
}
export function ffprobe(path: string): Probe {
  return JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path], { encoding: 'utf8' }),
  );
}
export const videoStream = (p: Probe) => p.streams.find((s) => s.codec_type === 'video')!;
export const audioStream = (p: Probe) => p.streams.find((s) => s.codec_type === 'audio');
export const audioDuration = (path: string) => Number(audioStream(ffprobe(path))?.duration ?? NaN);
export const videoDuration = (path: string) => Number(videoStream(ffprobe(path)).duration);

/** One decoded frame at `at` seconds, scaled to width × height, as raw bytes of `pixFmt` (`gray`: one byte a pixel). */
function rawFrame(path: string, at: number, width: number, height: number, pixFmt: 'gray' | 'rgb24'): Buffer {
  const r = spawnSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      // No seek at 0: a still image (a poster) has nothing to seek in, and `-ss 0` gives no frame at all.
      ...(at > 0 ? ['-ss', String(at)] : []),
      '-i',
      path,
      '-frames:v',
      '1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      pixFmt,
      '-s',
      `${width}x${height}`,
      'pipe:1',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(`frame extraction failed: ${r.stderr}`);
  return r.stdout;
}

/** One decoded frame as grey bytes (width × height). */
export const greyFrame = (path: string, at: number, width: number, height: number): Buffer => rawFrame(path, at, width, height, 'gray');

/** One decoded frame as RGB bytes. */
export const rgbFrame = (path: string, at: number, width: number, height: number): Buffer => rawFrame(path, at, width, height, 'rgb24');

/** Mean absolute difference of two grey frames inside a rectangle. */
export function meanDiff(a: Buffer, b: Buffer, width: number, rect: { x0: number; y0: number; x1: number; y1: number }): number {
  let sum = 0;
  let n = 0;
  for (let y = rect.y0; y < rect.y1; y++)
    for (let x = rect.x0; x < rect.x1; x++) {
      sum += Math.abs(a[y * width + x]! - b[y * width + x]!);
      n++;
    }
  return n ? sum / n : 0;
}

/** Bounding box of pixels where two grey frames differ by more than `threshold`. */
export function diffBox(
  a: Buffer,
  b: Buffer,
  width: number,
  height: number,
  threshold = 40,
): { x0: number; y0: number; x1: number; y1: number; count: number } | null {
  let x0 = width,
    y0 = height,
    x1 = -1,
    y1 = -1,
    count = 0;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      if (Math.abs(a[y * width + x]! - b[y * width + x]!) > threshold) {
        count++;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  return count ? { x0, y0, x1, y1, count } : null;
}

/** Mean volume (dB) of the audio of a file, from FFmpeg's volumedetect. */
export function meanVolume(path: string, filter = ''): number {
  const r = spawnSync(
    'ffmpeg',
    ['-hide_banner', '-nostats', '-i', path, '-af', `${filter ? `${filter},` : ''}volumedetect`, '-vn', '-f', 'null', '-'],
    { encoding: 'utf8' },
  );
  const m = /mean_volume: (-?[\d.]+) dB/.exec(r.stderr);
  return m ? Number(m[1]) : -Infinity;
}

/** PIDs of running ffmpeg processes whose command line mentions `needle`. */
export function ffmpegPids(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('ffmpeg') && cmd.some((c) => c.includes(needle))) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}
