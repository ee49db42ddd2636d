import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RenderPlan } from '@gptmarket/contracts';
import { atempoChain, compileRender } from '../src/ffmpeg/plan.js';
import { wrapCaption } from '../src/ffmpeg/caption.js';
import { fontPath, MissingFontError } from '../src/ffmpeg/fonts.js';
import { probeMedia } from '../src/ffmpeg/probe.js';
import {
  audioStream,
  diffBox,
  ffprobe,
  greyFrame,
  makeClip,
  makeImage,
  makeTone,
  meanDiff,
  meanVolume,
  rgbFrame,
  tempDir,
  videoStream,
} from './helpers.js';
import { render } from './render.js';

const W = 320;
const H = 568;
let dir: string;
let clip: string; // testsrc2 + 440 Hz, 2 s
let silentClip: string; // no audio
let grey: string; // flat grey + 440 Hz, for caption pixel checks
let tone880: string; // 1 s of 880 Hz
let image: string;

beforeAll(() => {
  dir = tempDir('mw-plan-');
  clip = makeClip(join(dir, 'clip.mp4'));
  silentClip = makeClip(join(dir, 'silent.mp4'), { audio: false });
  grey = makeClip(join(dir, 'grey.mp4'), { color: 'gray', seconds: 2 });
  tone880 = makeTone(join(dir, 'tone880.m4a'), 1, 880);
  image = makeImage(join(dir, 'image.png'), 640, 480);
});

/** Top-level MP4 boxes in order. */
function topLevelBoxes(buf: Buffer): string[] {
  const boxes: string[] = [];
  for (let off = 0; off + 8 <= buf.length; ) {
    let size = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    if (size === 1) size = Number(buf.readBigUInt64BE(off + 8));
    boxes.push(type);
    if (size < 8) break;
    off += size;
  }
  return boxes;
}
const band = (f: number) => `bandpass=f=${f}:width_type=q:w=8,bandpass=f=${f}:width_type=q:w=8`;
const frameTime = (p: ReturnType<typeof ffprobe>) => {
  const [n, d] = String(videoStream(p).r_frame_rate).split('/').map(Number);
  return d! / n!;
};

describe('wrapping', () => {
  it('gives every line the same width (the Python version allowed one less on the first line)', () => {
    expect(wrapCaption('aaaa bbbb cccc dddd', 9)).toEqual(['aaaa bbbb', 'cccc dddd']);
    expect(wrapCaption('one two three four five six', 10).every((l) => l.length <= 10)).toBe(true);
    expect(wrapCaption('averyveryverylongword x', 8)).toEqual(['averyveryverylongword', 'x']);
    expect(wrapCaption('line one\nline two', 40)).toEqual(['line one', 'line two']);
    expect(wrapCaption('tab\there\u0000nul', 40)).toEqual(['tab here nul']);
    expect(wrapCaption('😀😀😀 😀😀😀', 7)).toEqual(['😀😀😀 😀😀😀']);
  });
  it('chains atempo so any speed keeps the audio', () => {
    expect(atempoChain(0.7)).toEqual(['atempo=0.7']);
    expect(atempoChain(0.3)).toEqual(['atempo=0.5', 'atempo=0.6']);
    expect(atempoChain(4)).toEqual(['atempo=2', 'atempo=2']);
  });
});

describe('output format and provenance', () => {
  it('is H.264 yuv420p + AAC, faststart, labelled AI-generated, with no source metadata', async () => {
    const out = await render(clip, { preserve_audio: true });
    const p = ffprobe(out.outputPath);
    expect(videoStream(p)).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width: W, height: H });
    expect(audioStream(p)).toMatchObject({ codec_name: 'aac' });
    const boxes = topLevelBoxes(readFileSync(out.outputPath));
    expect(boxes.indexOf('moov')).toBeGreaterThan(-1);
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
    const tags = p.format.tags ?? {};
    expect(tags).toMatchObject({ ai_generated: 'true', generator: 'GPTMarket Generator' });
    expect(tags.comment).toMatch(/AI-generated/);
    expect(JSON.stringify(p)).not.toMatch(/SOURCE-TITLE|Someone|source comment/);
  });

  it('honours fps, crf and the target size (contain letterboxes, cover crops)', async () => {
    const contain = await render(clip, { output: { fps: 15, crf: 31, width: 360, height: 360, fit: 'contain' } });
    const p = ffprobe(contain.outputPath);
    expect(videoStream(p)).toMatchObject({ width: 360, height: 360, r_frame_rate: '15/1' });
    // x264 writes its settings into the stream.
    expect(readFileSync(contain.outputPath).toString('latin1')).toMatch(/crf=31\.0/);
    const f = greyFrame(contain.outputPath, 0.5, 360, 360);
    expect(meanDiff(f, Buffer.alloc(360 * 360, 0), 360, { x0: 0, y0: 0, x1: 60, y1: 360 })).toBeLessThan(4); // black bars
    const cover = await render(clip, { output: { width: 360, height: 360, fit: 'cover' } });
    const g = greyFrame(cover.outputPath, 0.5, 360, 360);
    expect(meanDiff(g, Buffer.alloc(360 * 360, 0), 360, { x0: 0, y0: 0, x1: 60, y1: 360 })).toBeGreaterThan(20);
  });

  it('honours the encoder preset and the audio bitrate', async () => {
    const fast = await render(clip, { preserve_audio: true, output: { preset: 'ultrafast', audio_bitrate_kbps: 64 } });
    const slow = await render(clip, { preserve_audio: true, output: { preset: 'slow', audio_bitrate_kbps: 192 } });
    // x264 records its effective settings in the stream: subme is 0 for ultrafast and 8 for slow.
    expect(readFileSync(fast.outputPath).toString('latin1')).toMatch(/subme=0 /);
    expect(readFileSync(slow.outputPath).toString('latin1')).toMatch(/subme=8 /);
    const rate = (path: string) => Number(audioStream(ffprobe(path))!.bit_rate);
    expect(rate(fast.outputPath)).toBeLessThan(80_000);
    expect(rate(slow.outputPath)).toBeGreaterThan(150_000);
  });

  it('writes a poster frame and an animated preview in the same run', async () => {
    const out = await render(clip, { output: { thumbnails: true } });
    const poster = ffprobe(out.posterPath!);
    expect(videoStream(poster)).toMatchObject({ codec_name: 'mjpeg', width: W, height: H });
    const preview = ffprobe(out.previewPath!);
    expect(videoStream(preview)).toMatchObject({ codec_name: 'gif', width: 320 });
    expect(Number(preview.format.duration)).toBeGreaterThan(1);
    expect(Number(preview.format.duration)).toBeLessThanOrEqual(3.05);
  });

  it('takes the poster from the frame a third of the way in (at most 1 s), and the preview from the start at 10 fps', async () => {
    // A 2 s clip at 25 fps: the poster is the frame at 2/3 s, the preview is the whole 2 s at 10 fps (20 frames).
    const out = await render(clip, { output: { thumbnails: true } });
    const poster = greyFrame(out.posterPath!, 0, W, H);
    const diffFrom = (at: number) => meanDiff(poster, greyFrame(out.outputPath, at, W, H), W, { x0: 0, y0: 0, x1: W, y1: H });
    const picked = diffFrom(2 / 3);
    expect(picked).toBeLessThan(2); // JPEG against H.264: the same frame
    // The frames just before and after, and the ends, differ (testsrc2 moves every frame).
    for (const at of [0.6, 0.76, 0, 1.5]) expect(diffFrom(at)).toBeGreaterThan(picked + 2);
    const preview = videoStream(ffprobe(out.previewPath!));
    expect(preview).toMatchObject({ r_frame_rate: '10/1', nb_frames: '20' });
  });
});

describe('speed and audio', () => {
  for (const speed of [0.7, 0.3, 2.5]) {
    it(`speed ${speed}: video is ${2 / speed}s and the source audio is kept at the same length`, async () => {
      const out = await render(clip, { speed, preserve_audio: true });
      const p = ffprobe(out.outputPath);
      const v = Number(videoStream(p).duration);
      expect(Math.abs(v - 2 / speed)).toBeLessThanOrEqual(frameTime(p) + 0.01);
      const a = audioStream(p);
      expect(a, 'audio kept').toBeDefined();
      expect(Math.abs(Number(a!.duration) - v)).toBeLessThan(0.06);
      // It is the source tone (440 Hz), not silence.
      expect(meanVolume(out.outputPath, band(440))).toBeGreaterThan(-40);
    });
  }

  it('drops the audio when preserve_audio is off, and does not fail on a silent source when it is on', async () => {
    const off = await render(clip, { speed: 0.7, preserve_audio: false });
    expect(audioStream(ffprobe(off.outputPath))).toBeUndefined();
    const silent = await render(silentClip, { speed: 0.7, preserve_audio: true });
    expect(audioStream(ffprobe(silent.outputPath))).toBeUndefined();
    expect(Number(ffprobe(silent.outputPath).format.duration)).toBeCloseTo(2 / 0.7, 1);
  });

  it('replace_audio is honoured: the track replaces the source and is padded to the video length', async () => {
    const out = await render(
      clip,
      { speed: 0.7, preserve_audio: true, audio: { url: 'https://example.com/a.m4a', mode: 'replace' } },
      { audioInput: tone880 },
    );
    const p = ffprobe(out.outputPath);
    expect(Math.abs(Number(audioStream(p)!.duration) - Number(videoStream(p).duration))).toBeLessThan(0.06);
    expect(meanVolume(out.outputPath, band(880))).toBeGreaterThan(-40);
    expect(meanVolume(out.outputPath, band(440))).toBeLessThan(meanVolume(out.outputPath, band(880)) - 25);
  });

  it('offset_seconds starts the track that far in', async () => {
    // 1 s of 660 Hz then 1 s of 990 Hz: an offset of 1 s leaves only the 990 Hz part.
    const twoTone = join(dir, 'two-tone.m4a');
    execFileSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=660:sample_rate=48000:duration=1',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=990:sample_rate=48000:duration=1',
      '-filter_complex',
      '[0:a][1:a]concat=n=2:v=0:a=1[a]',
      '-map',
      '[a]',
      '-c:a',
      'aac',
      twoTone,
    ]);
    const from0 = await render(clip, { audio: { url: 'https://example.com/a.m4a' } }, { audioInput: twoTone });
    const from1 = await render(clip, { audio: { url: 'https://example.com/a.m4a', offset_seconds: 1 } }, { audioInput: twoTone });
    const head = (path: string, f: number) => meanVolume(path, `atrim=0:0.8,${band(f)}`);
    expect(head(from0.outputPath, 660)).toBeGreaterThan(head(from0.outputPath, 990) + 20);
    expect(head(from1.outputPath, 990)).toBeGreaterThan(head(from1.outputPath, 660) + 20);
  });

  it('mix keeps both; ducking lowers the track under the source', async () => {
    const plain = await render(
      clip,
      { preserve_audio: true, audio: { url: 'https://example.com/a.m4a', mode: 'mix', volume: 0.5 } },
      { audioInput: tone880 },
    );
    const ducked = await render(
      clip,
      { preserve_audio: true, audio: { url: 'https://example.com/a.m4a', mode: 'mix', volume: 0.5, duck: true } },
      { audioInput: tone880 },
    );
    const mix440 = meanVolume(plain.outputPath, `atrim=0:0.9,${band(440)}`);
    const mix880 = meanVolume(plain.outputPath, `atrim=0:0.9,${band(880)}`);
    expect(mix440).toBeGreaterThan(-40);
    expect(mix880).toBeGreaterThan(-40);
    const duck880 = meanVolume(ducked.outputPath, `atrim=0:0.9,${band(880)}`);
    expect(duck880).toBeLessThan(mix880 - 4);
    expect(meanVolume(ducked.outputPath, `atrim=0:0.9,${band(440)}`)).toBeCloseTo(mix440, 0);
  });
});

describe('image to video', () => {
  it('makes a clip of the asked duration; motion moves the picture, none keeps it still', async () => {
    const still = await render(image, { image: { duration_seconds: 2, motion: 'none' } });
    const zoom = await render(image, { image: { duration_seconds: 2, motion: 'zoom_in' }, output: { fps: 24 } });
    for (const out of [still, zoom]) {
      const p = ffprobe(out.outputPath);
      expect(videoStream(p)).toMatchObject({ width: 640, height: 480, pix_fmt: 'yuv420p' });
      expect(Number(p.format.duration)).toBeCloseTo(2, 1);
    }
    const diff = (path: string) =>
      meanDiff(greyFrame(path, 0.1, 640, 480), greyFrame(path, 1.8, 640, 480), 640, { x0: 0, y0: 0, x1: 640, y1: 480 });
    expect(diff(still.outputPath)).toBeLessThan(1);
    expect(diff(zoom.outputPath)).toBeGreaterThan(5);
    for (const motion of ['zoom_out', 'pan_left'] as const) {
      const moved = await render(image, { image: { duration_seconds: 1, motion }, output: { width: 320, height: 240 } });
      const d = meanDiff(greyFrame(moved.outputPath, 0.05, 320, 240), greyFrame(moved.outputPath, 0.9, 320, 240), 320, {
        x0: 0,
        y0: 0,
        x1: 320,
        y1: 240,
      });
      expect(d, motion).toBeGreaterThan(5);
    }
    const pan = await render(
      image,
      { image: { duration_seconds: 1, motion: 'pan_right' }, audio: { url: 'https://example.com/a.m4a' } },
      { audioInput: tone880 },
    );
    const pp = ffprobe(pan.outputPath);
    expect(Number(audioStream(pp)!.duration)).toBeCloseTo(1, 1);
  });
});

describe('captions', () => {
  const box = async (caption: Record<string, unknown>, at = 0.5) => {
    const out = await render(grey, { caption: { font_size: 32, max_chars_per_line: 20, ...caption } as never });
    const base = greyFrame(grey, at, W, H);
    return { box: diffBox(greyFrame(out.outputPath, at, W, H), base, W, H, 40), out };
  };

  it('draws the caption where the position says', async () => {
    const cases: Array<[string, (b: NonNullable<ReturnType<typeof diffBox>>) => void]> = [
      [
        'top_left',
        (b) => {
          expect(Math.abs(b.x0 - W * 0.05)).toBeLessThan(8);
          expect(b.y1).toBeLessThan(H / 3);
        },
      ],
      [
        'center',
        (b) => {
          expect(Math.abs((b.x0 + b.x1) / 2 - W / 2)).toBeLessThan(8);
          expect(Math.abs((b.y0 + b.y1) / 2 - H / 2)).toBeLessThan(30);
        },
      ],
      [
        'bottom_right',
        (b) => {
          expect(Math.abs(b.x1 - W * 0.95)).toBeLessThan(8);
          expect(b.y0).toBeGreaterThan((2 * H) / 3);
        },
      ],
      [
        'top',
        (b) => {
          expect(Math.abs((b.x0 + b.x1) / 2 - W / 2)).toBeLessThan(8);
          expect(b.y0).toBeLessThan(H * 0.15);
        },
      ],
    ];
    for (const [position, check] of cases) {
      const { box: b } = await box({ text: 'HELLO', position });
      expect(b, position).not.toBeNull();
      check(b!);
    }
  });

  it('honours size, line spacing, wrap width, colour, border, box and timing', async () => {
    const small = (await box({ text: 'SIZE', font_size: 20 })).box!;
    const big = (await box({ text: 'SIZE', font_size: 60 })).box!;
    expect((big.y1 - big.y0) / (small.y1 - small.y0)).toBeGreaterThan(2.2);
    const tight = (await box({ text: 'ONEONE TWOTWO', max_chars_per_line: 8, line_spacing: 0 })).box!;
    const loose = (await box({ text: 'ONEONE TWOTWO', max_chars_per_line: 8, line_spacing: 40 })).box!;
    expect(loose.y1 - loose.y0 - (tight.y1 - tight.y0)).toBeGreaterThan(32);
    const oneLine = (await box({ text: 'ONEONE TWOTWO', max_chars_per_line: 20 })).box!;
    expect(oneLine.y1 - oneLine.y0).toBeLessThan(tight.y1 - tight.y0 - 20);

    const { out: green } = await box({ text: 'GREEN', font_color: '#00FF00', border_width: 0 });
    const rgb = rgbFrame(green.outputPath, 0.5, W, H);
    let greenPixels = 0;
    for (let i = 0; i < rgb.length; i += 3) if (rgb[i + 1]! > 200 && rgb[i]! < 80 && rgb[i + 2]! < 80) greenPixels++;
    expect(greenPixels).toBeGreaterThan(200);

    const noBorder = (await box({ text: 'EDGE', border_width: 0, font_color: 'white' })).box!;
    const border = (await box({ text: 'EDGE', border_width: 6, border_color: 'black', font_color: 'white' })).box!;
    expect(border.count).toBeGreaterThan(noBorder.count * 1.3);

    const { out: boxed, box: bb } = await box({ text: 'BOX', background_color: '#FF0000', padding: 20, border_width: 0 });
    const rgbBox = rgbFrame(boxed.outputPath, 0.5, W, H);
    let red = 0;
    for (let i = 0; i < rgbBox.length; i += 3) if (rgbBox[i]! > 200 && rgbBox[i + 1]! < 60 && rgbBox[i + 2]! < 60) red++;
    expect(red).toBeGreaterThan(1500);
    expect(bb!.x1 - bb!.x0).toBeGreaterThan(40 + 30);

    // font_scale_factor: the size is the frame height over the factor (568/10 = 56 px against 568/20 = 28 px).
    const scaled10 = (await box({ text: 'SCALE', font_size: null, font_scale_factor: 10 })).box!;
    const scaled20 = (await box({ text: 'SCALE', font_size: null, font_scale_factor: 20 })).box!;
    expect((scaled10.y1 - scaled10.y0) / (scaled20.y1 - scaled20.y0)).toBeGreaterThan(1.7);
    // border_color and padding.
    const { out: redEdge } = await box({ text: 'EDGE', border_width: 5, border_color: '#FF0000', font_color: 'white' });
    const rgbEdge = rgbFrame(redEdge.outputPath, 0.5, W, H);
    let redEdgePixels = 0;
    for (let i = 0; i < rgbEdge.length; i += 3) if (rgbEdge[i]! > 200 && rgbEdge[i + 1]! < 60 && rgbEdge[i + 2]! < 60) redEdgePixels++;
    expect(redEdgePixels).toBeGreaterThan(200);
    const pad5 = (await box({ text: 'PAD', background_color: 'black', padding: 5, border_width: 0 })).box!;
    const pad40 = (await box({ text: 'PAD', background_color: 'black', padding: 40, border_width: 0 })).box!;
    expect(pad40.x1 - pad40.x0 - (pad5.x1 - pad5.x0)).toBeGreaterThan(60);

    const timed = await render(grey, { caption: { text: 'TIMED', font_size: 40, start_time: 0.6, end_time: 1.2 } });
    const at = (t: number) => meanDiff(greyFrame(timed.outputPath, t, W, H), greyFrame(grey, t, W, H), W, { x0: 0, y0: 0, x1: W, y1: H });
    expect(at(0.3)).toBeLessThan(0.5);
    expect(at(0.9)).toBeGreaterThan(1);
    expect(at(1.6)).toBeLessThan(0.5);
  }, 120_000); // several renders: 9 s alone, 34 s beside next build on 2 cores

  it('draws bold fonts bold, by file; a missing font is a clear error', async () => {
    const regular = (await box({ text: 'WEIGHT', font: 'ARIAL', border_width: 0 })).box!;
    const bold = (await box({ text: 'WEIGHT', font: 'ARIAL_BLACK', border_width: 0 })).box!;
    expect(bold.count).toBeGreaterThan(regular.count * 1.2);
    for (const f of ['IMPACT', 'ARIAL_BLACK', 'HELVETICA_BOLD', 'ARIAL', 'HELVETICA', 'ROBOTO', 'GEORGIA', 'TIMES', 'COURIER'] as const) {
      expect(() => fontPath(f), f).not.toThrow();
    }
    const plan = RenderPlan.parse({
      input_url: 'https://example.com/x.mp4',
      caption: { text: 'x', font: 'ROBOTO' },
      output: { folder: 'x' },
    });
    const info = await probeMedia(grey);
    const emptyFonts = tempDir('mw-nofonts-');
    expect(() => compileRender(plan, info, { dir, input: grey, fontFile: (f) => fontPath(f, emptyFonts) })).toThrow(MissingFontError);
    expect(() => fontPath('ROBOTO', emptyFonts)).toThrow(/ROBOTO is not installed/);
  });
});
