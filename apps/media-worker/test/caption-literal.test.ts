import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fontCovers, fontForLine, fontPath } from '../src/ffmpeg/fonts.js';
import { diffBox, greyFrame, makeClip, meanDiff, tempDir } from './helpers.js';
import { render } from './render.js';

/**
 * Hostile captions must render exactly as typed. Each one is drawn by the engine (text file, expansion off)
 * and, independently, through a second route: drawtext's inline `text=` option with FFmpeg's two documented
 * escaping levels applied by this test. The frames must match; and a few are also checked against what an
 * evaluating or mis-escaping renderer would have drawn instead.
 */
const W = 320;
const H = 568;
const SIZE = 24;
let dir: string;
let grey: string;

beforeAll(() => {
  dir = tempDir('mw-literal-');
  grey = makeClip(join(dir, 'grey.mp4'), { color: 'gray', seconds: 1, audio: false });
});

/** Option-value level, then filtergraph level (ffmpeg-filters(1), "Notes on filtergraph escaping"). */
const escapeForGraph = (text: string) => text.replace(/[\\':]/g, '\\$&').replace(/[\\'[\],;]/g, '\\$&');

/** The trusted route: one drawtext with inline text, same font, size, layout and encode as the engine. */
function trustedRender(text: string, font: string): string {
  const out = join(dir, `trusted-${Math.random().toString(36).slice(2)}.mp4`);
  const draw = [
    `fontfile=${font}`,
    `text=${escapeForGraph(text)}`,
    'expansion=none',
    `fontsize=${SIZE}`,
    'fontcolor=white',
    'x=(w-text_w)/2',
    `y=(h-${SIZE})/2+0`,
    'borderw=2',
    'bordercolor=black',
  ].join(':');
  const r = spawnSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-i',
      grey,
      '-filter_complex',
      `[0:v]fps=25,drawtext=${draw},format=yuv420p[v]`,
      '-map',
      '[v]',
      '-an',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-crf',
      '20',
      '-pix_fmt',
      'yuv420p',
      out,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

const whole = { x0: 0, y0: 0, x1: W, y1: H };
const frame = (path: string) => greyFrame(path, 0.5, W, H);

const CORPUS = [
  '100% real',
  "it's you're",
  "don't stop",
  'back\\slash \\n \\t',
  'a:b, c;d [x] [in]',
  '%{eif:6*7:d}',
  '%{localtime} %{pts}',
  '\\%{eif:6*7:d}',
  "'; rm -rf / #",
  "x':fontsize=200:text='y",
  '😀🔥 wow',
  'שלום עולם',
  'مرحبا بالعالم',
];

describe('hostile captions render literally', () => {
  for (const text of CORPUS) {
    it(JSON.stringify(text), async () => {
      const engine = await render(grey, { caption: { text, font_size: SIZE, max_chars_per_line: 80, border_width: 2 } });
      expect(engine.textFiles.map((f) => f.content)).toEqual([text]);
      const font = fontForLine(text, fontPath('IMPACT'));
      expect(fontCovers(font, text)).toBe(true);
      const a = frame(engine.outputPath);
      expect(diffBox(a, frame(grey), W, H, 30)?.count ?? 0, 'something is drawn').toBeGreaterThan(100);
      // Pixel for pixel: a single dropped apostrophe or backslash would differ by dozens of pixels.
      expect(diffBox(a, frame(trustedRender(text, font)), W, H, 30)?.count ?? 0, 'same pixels as the trusted route').toBeLessThan(5);
    });
  }

  it('nothing is evaluated: %{eif:6*7:d} is not drawn as 42, 100% is not drawn as 100', async () => {
    const font = fontPath('IMPACT');
    const engine = frame((await render(grey, { caption: { text: '%{eif:6*7:d}', font_size: SIZE, max_chars_per_line: 80 } })).outputPath);
    expect(meanDiff(engine, frame(trustedRender('42', font)), W, whole)).toBeGreaterThan(0.3);
    const pct = frame((await render(grey, { caption: { text: '100%', font_size: SIZE, max_chars_per_line: 80 } })).outputPath);
    expect(diffBox(pct, frame(trustedRender('100', font)), W, H, 30)?.count ?? 0).toBeGreaterThan(30);
    // The Python system dropped paired apostrophes: that rendering is a different picture.
    const quotes = frame((await render(grey, { caption: { text: "it's you're", font_size: SIZE, max_chars_per_line: 80 } })).outputPath);
    expect(diffBox(quotes, frame(trustedRender('its youre', font)), W, H, 30)?.count ?? 0).toBeGreaterThan(30);
  });

  it('newlines start new lines and never reach a filter', async () => {
    const out = await render(grey, { caption: { text: 'top line\nbottom line', font_size: SIZE } });
    expect(out.textFiles.map((f) => f.content)).toEqual(['top line', 'bottom line']);
    expect(out.args.join(' ')).not.toMatch(/top line|bottom line/);
  });

  it('emoji get a font that has them (the chosen font is kept when it covers the line)', () => {
    const liberation = fontPath('ARIAL');
    expect(fontForLine('plain', liberation)).toBe(liberation);
    const emojiFont = fontForLine('hi 😀', liberation);
    expect(emojiFont).not.toBe(liberation);
    expect(fontCovers(emojiFont, 'hi 😀')).toBe(true);
  });
});
