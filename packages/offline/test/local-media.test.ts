import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BitWriter,
  H264BaselineEncoder,
  chooseLevel,
  clipViewAt,
  crc32,
  createImage,
  decodePngSize,
  encodeClip,
  encodePng,
  encodeWav,
  escapeRbsp,
  fillRect,
  mouthShapeForEmotion,
  renderClip,
  renderPortrait,
  renderView,
  resizeCover,
  synthesizeTone,
  toAnnexB,
  type RgbaImage,
  type YuvFrame,
} from '../src/media/index.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'local-media-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function writeTmp(name: string, data: Uint8Array): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, data);
  return file;
}

interface RunResult {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

function run(cmd: string, args: string[]): RunResult {
  const r = spawnSync(cmd, args, { maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

interface ProbeStream {
  codec_name?: string;
  profile?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  sample_rate?: string;
  channels?: number;
  pix_fmt?: string;
}

function probe(file: string): { streams: ProbeStream[]; format: { duration?: string; format_name?: string } } {
  const r = run('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', file]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout.toString('utf8')) as {
    streams: ProbeStream[];
    format: { duration?: string; format_name?: string };
  };
}

/** ffmpeg must decode the whole file without printing anything at -v error. */
function expectCleanDecode(file: string): void {
  const plain = run('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-']);
  expect(plain.stderr).toBe('');
  expect(plain.status).toBe(0);
  const strict = run('ffmpeg', [
    '-nostdin',
    '-v',
    'error',
    '-err_detect',
    'crccheck+bitstream+buffer+explode',
    '-i',
    file,
    '-f',
    'null',
    '-',
  ]);
  expect(strict.stderr).toBe('');
  expect(strict.status).toBe(0);
}

/** Decodes the listed frame numbers to packed rgb24. */
function decodeFrames(file: string, frames: number[], width: number, height: number): Buffer[] {
  const expr = frames.map((n) => `eq(n,${n})`).join('+');
  const r = run('ffmpeg', [
    '-nostdin',
    '-v',
    'error',
    '-i',
    file,
    '-vf',
    `select='${expr}'`,
    '-vsync',
    '0',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-',
  ]);
  expect(r.stderr).toBe('');
  const size = width * height * 3;
  expect(r.stdout.length).toBe(size * frames.length);
  return frames.map((_, i) => r.stdout.subarray(i * size, (i + 1) * size));
}

/** Per-channel mean absolute error between an rgb24 frame and an RGBA image. */
function maeRgb(rgb: Uint8Array, image: RgbaImage): number {
  expect(rgb.length).toBe(image.width * image.height * 3);
  let sum = 0;
  for (let p = 0; p < image.width * image.height; p++) {
    for (let c = 0; c < 3; c++) sum += Math.abs((rgb[p * 3 + c] ?? 0) - (image.data[p * 4 + c] ?? 0));
  }
  return sum / (image.width * image.height * 3);
}

function maeBytes(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return sum / a.length;
}

function topLevelBoxes(buf: Buffer): string[] {
  const types: string[] = [];
  let o = 0;
  while (o + 8 <= buf.length) {
    const size = buf.readUInt32BE(o);
    types.push(buf.toString('latin1', o + 4, o + 8));
    if (size < 8) break;
    o += size;
  }
  expect(o).toBe(buf.length);
  return types;
}

/** Payload of the first box found along `boxPath` (e.g. moov/trak/mdia/minf/stbl/stss). */
function findBox(buf: Buffer, boxPath: string): Buffer {
  let region = buf;
  for (const name of boxPath.split('/')) {
    let o = 0;
    let found: Buffer | undefined;
    while (o + 8 <= region.length) {
      const size = region.readUInt32BE(o);
      const type = region.toString('latin1', o + 4, o + 8);
      if (size < 8 || o + size > region.length) throw new Error(`corrupt box ${type}`);
      if (type === name) {
        found = region.subarray(o + 8, o + size);
        break;
      }
      o += size;
    }
    if (!found) throw new Error(`box ${name} not found in ${boxPath}`);
    region = found;
  }
  return region;
}

/** Small deterministic PRNG for test data. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

function bits(fn: (w: BitWriter) => void): string {
  const w = new BitWriter();
  fn(w);
  const n = w.bitLength;
  w.alignZero();
  return Array.from(w.finish(), (b) => b.toString(2).padStart(8, '0'))
    .join('')
    .slice(0, n);
}

describe('PNG', () => {
  it('computes the standard CRC-32 check value', () => {
    expect(crc32(Buffer.from('123456789', 'latin1'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('round-trips exact RGBA pixels through ffmpeg and reports the size', () => {
    const rnd = lcg(7);
    const img = createImage(123, 77);
    for (let i = 0; i < img.data.length; i += 4) {
      const p = i / 4;
      const x = p % 123;
      const y = Math.floor(p / 123);
      img.data[i] = (x * 2) & 255;
      img.data[i + 1] = y < 40 ? (y * 6) & 255 : Math.floor(rnd() * 256);
      img.data[i + 2] = (x ^ y) & 255;
      img.data[i + 3] = x < 60 ? 255 : Math.floor(rnd() * 256);
    }
    for (const filter of ['adaptive', 0, 1, 2, 3, 4] as const) {
      const png = encodePng(img, { filter });
      expect(decodePngSize(png)).toEqual({ width: 123, height: 77 });
      const file = writeTmp(`roundtrip-${filter}.png`, png);
      const info = probe(file);
      expect(info.streams[0]?.codec_name).toBe('png');
      expect(info.streams[0]?.width).toBe(123);
      expect(info.streams[0]?.height).toBe(77);
      const r = run('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgba', '-']);
      expect(r.stderr).toBe('');
      expect(Buffer.compare(r.stdout, Buffer.from(img.data)), `filter ${filter}`).toBe(0);
    }
  });

  it('round-trips a portrait', () => {
    const img = renderPortrait({ width: 96, height: 128, seed: 'png-portrait', emotion: 'happy' });
    const file = writeTmp('portrait.png', encodePng(img));
    const r = run('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgba', '-']);
    expect(r.stderr).toBe('');
    expect(Buffer.compare(r.stdout, Buffer.from(img.data))).toBe(0);
  });

  it('rejects non-PNG data in decodePngSize', () => {
    const png = encodePng(createImage(4, 4));
    const bad = Buffer.from(png);
    bad[1] = 0x51;
    expect(() => decodePngSize(bad)).toThrow(/signature/);
    expect(() => decodePngSize(png.subarray(0, 10))).toThrow();
  });
});

describe('renderPortrait', () => {
  const base = { width: 180, height: 320, seed: 'alice', skinTone: 'asian', hairColor: 'black' } as const;

  it('is deterministic', () => {
    const a = renderPortrait({ ...base, emotion: 'excited' });
    const b = renderPortrait({ ...base, emotion: 'excited' });
    expect(a.width).toBe(180);
    expect(a.height).toBe(320);
    expect(Buffer.compare(Buffer.from(a.data), Buffer.from(b.data))).toBe(0);
    expect(encodePng(a).equals(encodePng(b))).toBe(true);
  });

  it('changes with the seed, the emotion and the colours', () => {
    const ref = renderPortrait(base);
    const variants = [
      renderPortrait({ ...base, seed: 'bob' }),
      renderPortrait({ ...base, emotion: 'shocked' }),
      renderPortrait({ ...base, emotion: 'crying' }),
      renderPortrait({ ...base, emotion: 'excited' }),
      renderPortrait({ ...base, hairColor: 'pink' }),
      renderPortrait({ ...base, skinTone: 'black' }),
    ];
    const datas = [ref, ...variants].map((v) => Buffer.from(v.data).toString('base64'));
    expect(new Set(datas).size).toBe(datas.length);
    for (const v of variants) expect(maeBytes(v.data, ref.data)).toBeGreaterThan(0.05);
  });

  it('derives unknown colours from the seed', () => {
    const a = renderPortrait({ ...base, hairColor: 'no-such-colour', seed: 's1' });
    const b = renderPortrait({ ...base, hairColor: 'no-such-colour', seed: 's1' });
    const c = renderPortrait({ ...base, hairColor: 'no-such-colour', seed: 's2' });
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    expect(Buffer.from(a.data).equals(Buffer.from(c.data))).toBe(false);
  });

  it('maps emotions to mouth shapes', () => {
    expect(mouthShapeForEmotion('Shocked')).toBe('open');
    expect(mouthShapeForEmotion('amazed')).toBe('open');
    expect(mouthShapeForEmotion('worried')).toBe('frown');
    expect(mouthShapeForEmotion('scared')).toBe('frown');
    expect(mouthShapeForEmotion('excited')).toBe('wide_smile');
    expect(mouthShapeForEmotion('bored')).toBe('neutral');
    expect(mouthShapeForEmotion(undefined)).toBe('neutral');
  });
});

describe('H.264 bitstream primitives', () => {
  it('writes Exp-Golomb codes', () => {
    expect(bits((w) => w.ue(0))).toBe('1');
    expect(bits((w) => w.ue(1))).toBe('010');
    expect(bits((w) => w.ue(2))).toBe('011');
    expect(bits((w) => w.ue(3))).toBe('00100');
    expect(bits((w) => w.ue(25))).toBe('000011010');
    expect(bits((w) => w.se(1))).toBe('010');
    expect(bits((w) => w.se(-1))).toBe('011');
    expect(bits((w) => w.se(2))).toBe('00100');
    expect(bits((w) => w.se(-2))).toBe('00101');
    expect(bits((w) => w.u(32, 0x80000001))).toBe(`1${'0'.repeat(30)}1`);
  });

  it('inserts emulation prevention bytes', () => {
    expect(Array.from(escapeRbsp(Uint8Array.of(0, 0, 1)))).toEqual([0, 0, 3, 1]);
    expect(Array.from(escapeRbsp(Uint8Array.of(0, 0, 3, 0, 0, 2)))).toEqual([0, 0, 3, 3, 0, 0, 3, 2]);
    expect(Array.from(escapeRbsp(Uint8Array.of(0, 0, 0, 0)))).toEqual([0, 0, 3, 0, 0]);
    expect(Array.from(escapeRbsp(Uint8Array.of(0, 0, 4, 0, 1)))).toEqual([0, 0, 4, 0, 1]);
  });

  it('picks sensible levels', () => {
    expect(chooseLevel({ mbWidth: 11, mbHeight: 9, fps: 15 })).toBe(10);
    expect(chooseLevel({ mbWidth: 80, mbHeight: 45, fps: 30 })).toBe(31);
    // A raw I_PCM 360x640 picture needs a high MaxMBPS to satisfy MinCR.
    expect(chooseLevel({ mbWidth: 23, mbHeight: 40, fps: 24, maxAccessUnitBytes: 23 * 40 * 386 })).toBe(42);
  });

  it('decodes P pictures with arbitrary motion vectors bit-exactly', () => {
    // 128x96 (no cropping) so decoded samples map 1:1 onto coded samples.
    const W = 128;
    const H = 96;
    const enc = new H264BaselineEncoder({ width: W, height: H, fps: 25 });
    const rnd = lcg(42);
    const plane = (w: number, h: number, f: (x: number, y: number) => number): Uint8Array => {
      const p = new Uint8Array(w * h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) p[y * w + x] = f(x, y);
      return p;
    };
    const noisy = (): YuvFrame => ({
      width: W,
      height: H,
      y: plane(W, H, (x, y) => 16 + ((x * 3 + y * 5 + Math.floor(rnd() * 40)) % 220)),
      u: plane(W / 2, H / 2, (x, y) => 16 + ((x * 7 + y * 2) % 224)),
      v: plane(W / 2, H / 2, (x, y) => 16 + ((x * 2 + y * 9 + Math.floor(rnd() * 9)) % 224)),
    });
    const idr = noisy();
    const nals: Uint8Array[] = [enc.sps, enc.pps, ...enc.encodeIdr(idr)];
    const expected: YuvFrame[] = [idr];
    const nMb = enc.macroblockCount;
    const mbW = enc.mbWidth;
    // Picture 1: all skip. Pictures 2..5: random even full-sample vectors, runs
    // of identical vectors (P_Skip inference), zero vectors next to moving
    // neighbours, and I_PCM macroblocks (intra neighbours in the predictor).
    for (let pic = 1; pic <= 5; pic++) {
      const prev = expected[expected.length - 1] as YuvFrame;
      const mv = new Int32Array(nMb * 2);
      const intra = new Uint8Array(nMb);
      const fresh = noisy();
      if (pic > 1) {
        for (let b = 0; b < nMb; b++) {
          const r = rnd();
          if (r < 0.1) intra[b] = 1;
          else if (r < 0.4 && b > 0) {
            mv[b * 2] = mv[(b - 1) * 2] ?? 0;
            mv[b * 2 + 1] = mv[(b - 1) * 2 + 1] ?? 0;
          } else if (r < 0.55) {
            // keep zero
          } else {
            mv[b * 2] = 8 * Math.round((rnd() - 0.5) * 16); // ±8 px, even
            mv[b * 2 + 1] = 8 * Math.round((rnd() - 0.5) * 16);
          }
        }
      }
      nals.push(...enc.encodeP({ mv, intra, source: fresh }));
      // Expected reconstruction: block copy with edge clamping (8.4.2.2).
      const out: YuvFrame = {
        width: W,
        height: H,
        y: new Uint8Array(W * H),
        u: new Uint8Array((W * H) / 4),
        v: new Uint8Array((W * H) / 4),
      };
      for (let b = 0; b < nMb; b++) {
        const bx = (b % mbW) * 16;
        const by = Math.floor(b / mbW) * 16;
        const src = intra[b] ? fresh : prev;
        const dx = intra[b] ? 0 : (mv[b * 2] ?? 0) / 4;
        const dy = intra[b] ? 0 : (mv[b * 2 + 1] ?? 0) / 4;
        const clamp = (v: number, hi: number): number => Math.min(hi, Math.max(0, v));
        for (let y = 0; y < 16; y++) {
          for (let x = 0; x < 16; x++) {
            const sx = clamp(bx + x + dx, W - 1);
            const sy = clamp(by + y + dy, H - 1);
            out.y[(by + y) * W + bx + x] = src.y[sy * W + sx] ?? 0;
          }
        }
        for (let y = 0; y < 8; y++) {
          for (let x = 0; x < 8; x++) {
            const sx = clamp(bx / 2 + x + dx / 2, W / 2 - 1);
            const sy = clamp(by / 2 + y + dy / 2, H / 2 - 1);
            out.u[(by / 2 + y) * (W / 2) + bx / 2 + x] = src.u[sy * (W / 2) + sx] ?? 0;
            out.v[(by / 2 + y) * (W / 2) + bx / 2 + x] = src.v[sy * (W / 2) + sx] ?? 0;
          }
        }
      }
      expected.push(out);
    }
    const file = writeTmp('mv.h264', toAnnexB(nals));
    const r = run('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-err_detect',
      'crccheck+bitstream+buffer+explode',
      '-f',
      'h264',
      '-i',
      file,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'yuv420p',
      '-',
    ]);
    expect(r.stderr).toBe('');
    const frameBytes = (W * H * 3) / 2;
    expect(r.stdout.length).toBe(frameBytes * expected.length);
    expected.forEach((f, i) => {
      const got = r.stdout.subarray(i * frameBytes, (i + 1) * frameBytes);
      const want = Buffer.concat([f.y, f.u, f.v]);
      expect(Buffer.compare(got, want), `picture ${i}`).toBe(0);
    });
  });
});

describe('renderClip', () => {
  const portrait = renderPortrait({
    width: 360,
    height: 640,
    seed: 'clip-subject',
    skinTone: 'south_asian',
    hairColor: 'brown',
    emotion: 'surprised',
  });

  it('produces a decodable 5 s 360x640@24 Constrained Baseline MP4 that zooms', () => {
    const t0 = performance.now();
    const info = encodeClip({ image: portrait, width: 360, height: 640, fps: 24, durationSeconds: 5 });
    const encodeMs = performance.now() - t0;
    const mp4 = info.mp4;
    expect(mp4.length).toBeLessThan(8 * 1024 * 1024);
    expect(encodeMs).toBeLessThan(5000);
    expect(info.frameCount).toBe(120);
    const file = writeTmp('clip.mp4', mp4);

    // Container layout: ftyp, moov (faststart) then mdat.
    expect(topLevelBoxes(mp4)).toEqual(['ftyp', 'moov', 'mdat']);

    const s = probe(file).streams[0];
    expect(s?.codec_name).toBe('h264');
    expect(s?.profile).toMatch(/^(Constrained )?Baseline$/);
    expect(s?.width).toBe(360);
    expect(s?.height).toBe(640);
    expect(s?.pix_fmt).toBe('yuv420p');
    expect(s?.r_frame_rate).toBe('24/1');
    expect(Math.abs(Number(s?.nb_frames) - 120)).toBeLessThanOrEqual(1);
    expect(Math.abs(Number(s?.duration) - 5)).toBeLessThanOrEqual(1 / 24 + 1e-6);

    expectCleanDecode(file);

    // Sample tables: one stts entry (constant rate), stss = IDR frames only, 120 sizes.
    const stbl = 'moov/trak/mdia/minf/stbl';
    const mdhd = findBox(mp4, 'moov/trak/mdia/mdhd');
    const timescale = mdhd.readUInt32BE(12);
    const stts = findBox(mp4, `${stbl}/stts`);
    expect(stts.readUInt32BE(4)).toBe(1);
    expect(stts.readUInt32BE(8)).toBe(120);
    expect(stts.readUInt32BE(12) / timescale).toBeCloseTo(1 / 24, 9);
    const stss = findBox(mp4, `${stbl}/stss`);
    const stssEntries = Array.from({ length: stss.readUInt32BE(4) }, (_, i) => stss.readUInt32BE(8 + i * 4));
    expect(stssEntries).toEqual([1, 25, 49, 73, 97]);
    const stsz = findBox(mp4, `${stbl}/stsz`);
    expect(stsz.readUInt32BE(8)).toBe(120);
    const stco = findBox(mp4, `${stbl}/stco`);
    expect(mp4.toString('latin1', stco.readUInt32BE(8) - 4, stco.readUInt32BE(8))).toBe('mdat');
    expect(findBox(mp4, `${stbl}/stsd`).includes(Buffer.from('avcC'))).toBe(true);

    // Keyframes as seen by the demuxer.
    const pk = run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=flags', '-of', 'csv=p=0', file]);
    const keys = pk.stdout
      .toString('utf8')
      .trim()
      .split('\n')
      .flatMap((f, i) => (f.startsWith('K') ? [i] : []));
    expect(keys).toEqual([0, 24, 48, 72, 96]);

    const [first, mid, last] = decodeFrames(file, [0, 23, 119], 360, 640);
    if (!first || !mid || !last) throw new Error('missing frames');
    // First frame ≈ the source (only YUV 4:2:0 rounding).
    expect(maeRgb(first, portrait)).toBeLessThan(6);
    // Later frames (P pictures, motion only) show the zoom...
    expect(maeBytes(first, last)).toBeGreaterThan(3);
    expect(maeBytes(first, mid)).toBeGreaterThan(0.5);
    // ...and match the exact zoomed render far better than the unzoomed start.
    // (Measured: ~1.7 against the exact render vs ~3.1 / ~9.4 against the source.)
    for (const [frame, n, margin] of [
      [mid, 23, 1],
      [last, 119, 4],
    ] as const) {
      const expected = renderView(portrait, 360, 640, clipViewAt(portrait, 360, 640, 'zoom-in', 0.08, n, 120));
      const err = maeRgb(frame, expected);
      expect(err).toBeLessThan(3);
      expect(err + margin).toBeLessThan(maeRgb(frame, portrait));
    }
  });

  it('crops odd macroblock sizes correctly (250x446)', () => {
    const img = renderPortrait({ width: 250, height: 446, seed: 'odd', emotion: 'crying' });
    const file = writeTmp('odd.mp4', renderClip({ image: img, width: 250, height: 446, fps: 12, durationSeconds: 1.5 }));
    const s = probe(file).streams[0];
    expect(s?.width).toBe(250);
    expect(s?.height).toBe(446);
    expect(Number(s?.nb_frames)).toBe(18);
    expectCleanDecode(file);
    const [first] = decodeFrames(file, [0], 250, 446);
    expect(maeRgb(first as Buffer, img)).toBeLessThan(3);
    // FFmpeg may take the size from the MP4 sample entry, so also check the
    // SPS cropping on the bare elementary stream.
    const raw = path.join(tmp, 'odd.h264');
    const x = run('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', raw]);
    expect(x.stderr).toBe('');
    const rs = probe(raw).streams[0];
    expect(rs?.width).toBe(250);
    expect(rs?.height).toBe(446);
    expect(rs?.r_frame_rate).toBe('12/1'); // from the SPS VUI timing info
    expect(rs?.profile).toBe('Constrained Baseline');
    expectCleanDecode(raw);
  });

  it('scales and centre-crops the source to cover the frame', () => {
    // 400x200 source: green | red | blue columns; a 100x100 cover shows only
    // the middle 200 source columns (red | blue).
    const src = createImage(400, 200, [0, 200, 0, 255]);
    fillRect(src, 100, 0, 100, 200, [220, 30, 30, 255]);
    fillRect(src, 200, 0, 100, 200, [30, 30, 220, 255]);
    fillRect(src, 300, 0, 100, 200, [0, 200, 0, 255]);
    const file = writeTmp('cover.mp4', renderClip({ image: src, width: 100, height: 100, fps: 10, durationSeconds: 0.5, motion: 'none' }));
    expectCleanDecode(file);
    const [f] = decodeFrames(file, [0], 100, 100);
    const px = (x: number, y: number): number[] => Array.from((f as Buffer).subarray((y * 100 + x) * 3, (y * 100 + x) * 3 + 3));
    for (const [x, want] of [
      [2, [220, 30, 30]],
      [40, [220, 30, 30]],
      [60, [30, 30, 220]],
      [97, [30, 30, 220]],
    ] as const) {
      const got = px(x, 50);
      for (let c = 0; c < 3; c++) expect(Math.abs((got[c] ?? 0) - (want[c] ?? 0)), `x=${x}`).toBeLessThan(12);
    }
  });

  it('handles 1 fps, single-frame and landscape clips', () => {
    const one = writeTmp('fps1.mp4', renderClip({ image: portrait, width: 180, height: 320, fps: 1, durationSeconds: 3 }));
    let s = probe(one).streams[0];
    expect(s?.r_frame_rate).toBe('1/1');
    expect(Number(s?.nb_frames)).toBe(3);
    expect(Math.abs(Number(s?.duration) - 3)).toBeLessThan(1e-6);
    expectCleanDecode(one);

    const single = writeTmp('single.mp4', renderClip({ image: portrait, width: 180, height: 320, fps: 24, durationSeconds: 1 / 24 }));
    s = probe(single).streams[0];
    expect(Number(s?.nb_frames)).toBe(1);
    expectCleanDecode(single);
    const [f0] = decodeFrames(single, [0], 180, 320);
    expect(maeRgb(f0 as Buffer, resizeCover(portrait, 180, 320))).toBeLessThan(6);

    const land = writeTmp(
      'landscape.mp4',
      renderClip({ image: portrait, width: 640, height: 360, fps: 24, durationSeconds: 1, motion: 'pan' }),
    );
    s = probe(land).streams[0];
    expect(s?.width).toBe(640);
    expect(s?.height).toBe(360);
    expect(Number(s?.nb_frames)).toBe(24);
    expectCleanDecode(land);
    const [l0] = decodeFrames(land, [0], 640, 360);
    const expected = renderView(portrait, 640, 360, clipViewAt(portrait, 640, 360, 'pan', 0.08, 0, 24));
    expect(maeRgb(l0 as Buffer, expected)).toBeLessThan(6);
  });

  it('refreshes edges when zooming out and still decodes cleanly', () => {
    const info = encodeClip({
      image: portrait,
      width: 176,
      height: 320,
      fps: 24,
      durationSeconds: 1,
      motion: 'zoom-out',
      keyframeIntervalFrames: 24,
    });
    expect(info.refreshedMacroblocks).toBeGreaterThan(0);
    const file = writeTmp('zoomout.mp4', info.mp4);
    expectCleanDecode(file);
    const [last] = decodeFrames(file, [23], 176, 320);
    const expected = renderView(portrait, 176, 320, clipViewAt(portrait, 176, 320, 'zoom-out', 0.08, 23, 24));
    expect(maeRgb(last as Buffer, expected)).toBeLessThan(6);
  });

  it('rejects bad arguments with RangeError', () => {
    const ok = { image: portrait, width: 64, height: 64, fps: 24, durationSeconds: 1 };
    const bad: [Partial<typeof ok> & Record<string, unknown>, RegExp][] = [
      [{ width: 0 }, /width/],
      [{ height: 0 }, /height/],
      [{ width: 63 }, /width must be even/],
      [{ height: 445 }, /height must be even/],
      [{ width: 10_000 }, /width/],
      [{ width: 1920, height: 1920 }, /pixels/],
      [{ width: 64.5 }, /width/],
      [{ fps: 0 }, /fps/],
      [{ fps: -24 }, /fps/],
      [{ fps: Number.NaN }, /fps/],
      [{ durationSeconds: 0 }, /durationSeconds/],
      [{ durationSeconds: -1 }, /durationSeconds/],
      [{ durationSeconds: 61 }, /durationSeconds/],
      [{ keyframeIntervalFrames: 0 }, /keyframeIntervalFrames/],
      [{ image: { width: 2, height: 2, data: new Uint8Array(3) } }, /image/],
    ];
    for (const [patch, msg] of bad) {
      expect(() => renderClip({ ...ok, ...patch } as typeof ok), JSON.stringify(Object.keys(patch))).toThrow(RangeError);
      expect(() => renderClip({ ...ok, ...patch } as typeof ok)).toThrow(msg);
    }
    expect(() => renderPortrait({ width: 0, height: 10, seed: 'x' })).toThrow(RangeError);
    expect(() => encodePng({ width: 2, height: 2, data: new Uint8Array(15) })).toThrow(RangeError);
  });
});

describe('WAV', () => {
  it('writes PCM s16le that ffprobe reads back', () => {
    const samples = synthesizeTone({ seconds: 2.5, sampleRate: 22050, seed: 'voice-1' });
    expect(samples.length).toBe(55125);
    let energy = 0;
    for (const v of samples) energy += v * v;
    expect(Math.sqrt(energy / samples.length)).toBeGreaterThan(1000);
    const file = writeTmp('tone.wav', encodeWav(samples, 22050, 1));
    const info = probe(file);
    const s = info.streams[0];
    expect(s?.codec_name).toBe('pcm_s16le');
    expect(s?.sample_rate).toBe('22050');
    expect(s?.channels).toBe(1);
    expect(Math.abs(Number(s?.duration ?? info.format.duration) - 2.5)).toBeLessThan(1e-3);

    const r = run('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-f', 's16le', '-']);
    expect(r.stderr).toBe('');
    expect(Buffer.compare(r.stdout, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength))).toBe(0);
  });

  it('handles stereo and is deterministic per seed', () => {
    const a = synthesizeTone({ seconds: 1, sampleRate: 16000, seed: 'a' });
    expect(Buffer.from(a.buffer).equals(Buffer.from(synthesizeTone({ seconds: 1, sampleRate: 16000, seed: 'a' }).buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(synthesizeTone({ seconds: 1, sampleRate: 16000, seed: 'b' }).buffer))).toBe(false);
    const stereo = new Int16Array(a.length * 2);
    a.forEach((v, i) => {
      stereo[i * 2] = v;
      stereo[i * 2 + 1] = -v;
    });
    const info = probe(writeTmp('stereo.wav', encodeWav(stereo, 16000, 2)));
    expect(info.streams[0]?.channels).toBe(2);
    expect(info.streams[0]?.sample_rate).toBe('16000');
    expect(Math.abs(Number(info.streams[0]?.duration) - 1)).toBeLessThan(1e-3);
  });

  it('rejects bad arguments', () => {
    expect(() => encodeWav(new Int16Array(3), 16000, 2)).toThrow(RangeError);
    expect(() => encodeWav(new Int16Array(4), 0, 1)).toThrow(RangeError);
    expect(() => synthesizeTone({ seconds: 0, sampleRate: 16000, seed: 'x' })).toThrow(RangeError);
    expect(() => synthesizeTone({ seconds: 1, sampleRate: 100, seed: 'x' })).toThrow(RangeError);
  });
});
