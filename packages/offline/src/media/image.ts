/**
 * Tiny RGBA raster utilities plus a deterministic procedural portrait painter.
 *
 * Everything here is pure arithmetic over a `Uint8Array`; no native image
 * libraries and no FFmpeg are involved, so it can run inside sandboxed
 * workers that are not allowed to spawn processes.
 */
import { createHash } from 'node:crypto';

/** 8-bit RGBA raster, row-major, 4 bytes per pixel, no row padding. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export type Rgb = readonly [number, number, number];
export type Rgba = readonly [number, number, number, number];
export type Color = Rgb | Rgba;

/** Largest side accepted by {@link createImage} (keeps allocations sane). */
export const MAX_IMAGE_SIDE = 8192;

function assertDimension(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${name} must be an integer between 1 and ${max}, got ${String(value)}`);
  }
}

function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

function clamp01(v: number): number {
  return v <= 0 ? 0 : v >= 1 ? 1 : v;
}

function alphaOf(color: Color): number {
  return color.length === 4 ? color[3] : 255;
}

/** Allocates a new image, optionally filled with a colour (default opaque black). */
export function createImage(width: number, height: number, fill: Color = [0, 0, 0, 255]): RgbaImage {
  assertDimension('width', width, MAX_IMAGE_SIDE);
  assertDimension('height', height, MAX_IMAGE_SIDE);
  const image: RgbaImage = { width, height, data: new Uint8Array(width * height * 4) };
  fillImage(image, fill);
  return image;
}

/** Throws a RangeError when `image` is not a well-formed RGBA raster. */
export function assertImage(image: RgbaImage, label = 'image'): void {
  assertDimension(`${label}.width`, image.width, MAX_IMAGE_SIDE);
  assertDimension(`${label}.height`, image.height, MAX_IMAGE_SIDE);
  if (!(image.data instanceof Uint8Array) || image.data.length !== image.width * image.height * 4) {
    throw new RangeError(`${label}.data must be a Uint8Array of width*height*4 = ${image.width * image.height * 4} bytes`);
  }
}

export function cloneImage(image: RgbaImage): RgbaImage {
  return { width: image.width, height: image.height, data: new Uint8Array(image.data) };
}

/** Overwrites every pixel (no blending). */
export function fillImage(image: RgbaImage, color: Color): void {
  const r = clampByte(color[0]);
  const g = clampByte(color[1]);
  const b = clampByte(color[2]);
  const a = clampByte(alphaOf(color));
  const d = image.data;
  for (let i = 0; i < d.length; i += 4) {
    d[i] = r;
    d[i + 1] = g;
    d[i + 2] = b;
    d[i + 3] = a;
  }
}

/**
 * Source-over blend of `color` onto pixel (x, y) with an extra coverage factor
 * in [0, 1] (used for anti-aliased edges). Out-of-range coordinates are ignored.
 */
export function blendPixel(image: RgbaImage, x: number, y: number, color: Color, coverage = 1): void {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  const a = (alphaOf(color) / 255) * clamp01(coverage);
  if (a <= 0) return;
  const d = image.data;
  const i = (y * image.width + x) * 4;
  const inv = 1 - a;
  d[i] = clampByte(color[0] * a + (d[i] ?? 0) * inv);
  d[i + 1] = clampByte(color[1] * a + (d[i + 1] ?? 0) * inv);
  d[i + 2] = clampByte(color[2] * a + (d[i + 2] ?? 0) * inv);
  d[i + 3] = clampByte(255 * a + (d[i + 3] ?? 0) * inv);
}

/** Reads a pixel as [r, g, b, a]; coordinates are clamped to the image. */
export function getPixel(image: RgbaImage, x: number, y: number): [number, number, number, number] {
  const cx = Math.min(image.width - 1, Math.max(0, Math.floor(x)));
  const cy = Math.min(image.height - 1, Math.max(0, Math.floor(y)));
  const i = (cy * image.width + cx) * 4;
  const d = image.data;
  return [d[i] ?? 0, d[i + 1] ?? 0, d[i + 2] ?? 0, d[i + 3] ?? 0];
}

/** Axis-aligned rectangle; fractional edges are ignored (pixel-snapped). */
export function fillRect(image: RgbaImage, x: number, y: number, w: number, h: number, color: Color): void {
  const x0 = Math.max(0, Math.round(x));
  const y0 = Math.max(0, Math.round(y));
  const x1 = Math.min(image.width, Math.round(x + w));
  const y1 = Math.min(image.height, Math.round(y + h));
  for (let py = y0; py < y1; py++) {
    for (let px = x0; px < x1; px++) blendPixel(image, px, py, color);
  }
}

export interface EllipseClip {
  /** Only pixels whose centre is >= minY are painted. */
  minY?: number;
  /** Only pixels whose centre is <= maxY are painted. */
  maxY?: number;
}

/**
 * Anti-aliased filled ellipse centred on (cx, cy) in continuous coordinates
 * (pixel (x, y) has its centre at x + 0.5, y + 0.5).
 */
export function fillEllipse(image: RgbaImage, cx: number, cy: number, rx: number, ry: number, color: Color, clip: EllipseClip = {}): void {
  if (!(rx > 0) || !(ry > 0)) return;
  const minR = Math.min(rx, ry);
  const x0 = Math.max(0, Math.floor(cx - rx - 1));
  const x1 = Math.min(image.width - 1, Math.ceil(cx + rx + 1));
  const y0 = Math.max(0, Math.floor(cy - ry - 1));
  const y1 = Math.min(image.height - 1, Math.ceil(cy + ry + 1));
  const minY = clip.minY ?? Number.NEGATIVE_INFINITY;
  const maxY = clip.maxY ?? Number.POSITIVE_INFINITY;
  for (let y = y0; y <= y1; y++) {
    const py = y + 0.5;
    if (py < minY || py > maxY) continue;
    const dy = (py - cy) / ry;
    for (let x = x0; x <= x1; x++) {
      const dx = (x + 0.5 - cx) / rx;
      const dist = Math.sqrt(dx * dx + dy * dy);
      // Signed distance to the boundary, approximately in pixels.
      const coverage = (1 - dist) * minR + 0.5;
      if (coverage > 0) blendPixel(image, x, y, color, coverage);
    }
  }
}

export function fillCircle(image: RgbaImage, cx: number, cy: number, r: number, color: Color): void {
  fillEllipse(image, cx, cy, r, r, color);
}

/** Thick anti-aliased line segment with round caps ("capsule"). */
export function fillCapsule(image: RgbaImage, x0: number, y0: number, x1: number, y1: number, radius: number, color: Color): void {
  if (!(radius > 0)) return;
  const bx0 = Math.max(0, Math.floor(Math.min(x0, x1) - radius - 1));
  const bx1 = Math.min(image.width - 1, Math.ceil(Math.max(x0, x1) + radius + 1));
  const by0 = Math.max(0, Math.floor(Math.min(y0, y1) - radius - 1));
  const by1 = Math.min(image.height - 1, Math.ceil(Math.max(y0, y1) + radius + 1));
  const vx = x1 - x0;
  const vy = y1 - y0;
  const len2 = vx * vx + vy * vy;
  for (let y = by0; y <= by1; y++) {
    for (let x = bx0; x <= bx1; x++) {
      const px = x + 0.5 - x0;
      const py = y + 0.5 - y0;
      const t = len2 > 0 ? clamp01((px * vx + py * vy) / len2) : 0;
      const ex = px - t * vx;
      const ey = py - t * vy;
      const coverage = radius - Math.sqrt(ex * ex + ey * ey) + 0.5;
      if (coverage > 0) blendPixel(image, x, y, color, coverage);
    }
  }
}

function mix(a: Color, b: Color, t: number): [number, number, number, number] {
  const u = clamp01(t);
  return [a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u, a[2] + (b[2] - a[2]) * u, alphaOf(a) + (alphaOf(b) - alphaOf(a)) * u];
}

/** Opaque vertical gradient from `top` (first row) to `bottom` (last row). */
export function fillVerticalGradient(image: RgbaImage, top: Color, bottom: Color): void {
  const d = image.data;
  const w = image.width;
  for (let y = 0; y < image.height; y++) {
    const t = image.height > 1 ? y / (image.height - 1) : 0;
    const c = mix(top, bottom, t);
    const r = clampByte(c[0]);
    const g = clampByte(c[1]);
    const b = clampByte(c[2]);
    const a = clampByte(c[3]);
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      d[i] = r;
      d[i + 1] = g;
      d[i + 2] = b;
      d[i + 3] = a;
    }
  }
}

// ---------------------------------------------------------------------------
// Resampling ("cover" fitting, zoom and pan)
// ---------------------------------------------------------------------------

/**
 * A view of a source image: `scale` output pixels per source pixel, centred on
 * source point (centerX, centerY) in continuous source coordinates.
 */
export interface ImageView {
  scale: number;
  centerX: number;
  centerY: number;
}

/** Scale at which `src` exactly covers a width×height frame (no letterboxing). */
export function coverScale(src: { width: number; height: number }, width: number, height: number): number {
  return Math.max(width / src.width, height / src.height);
}

/** Centred cover view, optionally zoomed in by `zoom` (>= 1 keeps the frame covered). */
export function centeredCoverView(src: { width: number; height: number }, width: number, height: number, zoom = 1): ImageView {
  return { scale: coverScale(src, width, height) * zoom, centerX: src.width / 2, centerY: src.height / 2 };
}

/**
 * Renders `view` of `src` into a new width×height image using bilinear
 * interpolation (with up to 4×4 supersampling when minifying). Samples outside
 * the source are clamped to the nearest edge pixel.
 */
export function renderView(src: RgbaImage, width: number, height: number, view: ImageView): RgbaImage {
  assertDimension('width', width, MAX_IMAGE_SIDE);
  assertDimension('height', height, MAX_IMAGE_SIDE);
  const out: RgbaImage = { width, height, data: new Uint8Array(width * height * 4) };
  renderViewInto(out, src, view, 0, 0, width, height);
  return out;
}

/**
 * Like {@link renderView} but only (re)paints the rectangle
 * [left, right) × [top, bottom) of an existing `out` image whose size defines
 * the frame geometry.
 */
export function renderViewInto(
  out: RgbaImage,
  src: RgbaImage,
  view: ImageView,
  left: number,
  top: number,
  right: number,
  bottom: number,
): void {
  assertImage(src, 'source');
  assertImage(out, 'out');
  if (!(view.scale > 0) || !Number.isFinite(view.centerX) || !Number.isFinite(view.centerY)) {
    throw new RangeError('view.scale must be > 0 and the view centre finite');
  }
  const { width, height } = out;
  const rx0 = Math.max(0, Math.floor(left));
  const ry0 = Math.max(0, Math.floor(top));
  const rx1 = Math.min(width, Math.ceil(right));
  const ry1 = Math.min(height, Math.ceil(bottom));
  const sw = src.width;
  const sh = src.height;
  const sd = src.data;
  const n = view.scale >= 1 ? 1 : Math.min(4, Math.ceil(1 / view.scale));
  const inv = 1 / view.scale;
  const acc = [0, 0, 0, 0];
  const od = out.data;
  for (let y = ry0; y < ry1; y++) {
    for (let x = rx0; x < rx1; x++) {
      acc[0] = acc[1] = acc[2] = acc[3] = 0;
      for (let sy = 0; sy < n; sy++) {
        const oy = y + (sy + 0.5) / n;
        const fy = view.centerY + (oy - height / 2) * inv - 0.5;
        let y0 = Math.floor(fy);
        const ty = fy - y0;
        let y1 = y0 + 1;
        if (y0 < 0) y0 = 0;
        else if (y0 > sh - 1) y0 = sh - 1;
        if (y1 < 0) y1 = 0;
        else if (y1 > sh - 1) y1 = sh - 1;
        for (let sx = 0; sx < n; sx++) {
          const ox = x + (sx + 0.5) / n;
          const fx = view.centerX + (ox - width / 2) * inv - 0.5;
          let x0 = Math.floor(fx);
          const tx = fx - x0;
          let x1 = x0 + 1;
          if (x0 < 0) x0 = 0;
          else if (x0 > sw - 1) x0 = sw - 1;
          if (x1 < 0) x1 = 0;
          else if (x1 > sw - 1) x1 = sw - 1;
          const i00 = (y0 * sw + x0) * 4;
          const i01 = (y0 * sw + x1) * 4;
          const i10 = (y1 * sw + x0) * 4;
          const i11 = (y1 * sw + x1) * 4;
          const w00 = (1 - tx) * (1 - ty);
          const w01 = tx * (1 - ty);
          const w10 = (1 - tx) * ty;
          const w11 = tx * ty;
          for (let c = 0; c < 4; c++) {
            acc[c] =
              (acc[c] ?? 0) + (sd[i00 + c] ?? 0) * w00 + (sd[i01 + c] ?? 0) * w01 + (sd[i10 + c] ?? 0) * w10 + (sd[i11 + c] ?? 0) * w11;
          }
        }
      }
      const o = (y * width + x) * 4;
      const nn = n * n;
      od[o] = clampByte((acc[0] ?? 0) / nn);
      od[o + 1] = clampByte((acc[1] ?? 0) / nn);
      od[o + 2] = clampByte((acc[2] ?? 0) / nn);
      od[o + 3] = clampByte((acc[3] ?? 0) / nn);
    }
  }
}

/** Scales and centre-crops `src` so it fills width×height ("object-fit: cover"). */
export function resizeCover(src: RgbaImage, width: number, height: number, zoom = 1): RgbaImage {
  return renderView(src, width, height, centeredCoverView(src, width, height, zoom));
}

// ---------------------------------------------------------------------------
// Colours
// ---------------------------------------------------------------------------

/** Deterministic bytes derived from a seed and a purpose label. */
export function seedBytes(seed: string, purpose: string): Buffer {
  return createHash('sha256').update(`${purpose}\u0000${seed}`).digest();
}

/** Deterministic float in [0, 1) derived from `seed`, `purpose`. */
export function seedUnit(seed: string, purpose: string): number {
  return seedBytes(seed, purpose).readUInt32BE(0) / 0x100000000;
}

export function hslToRgb(h: number, s: number, l: number): Rgb {
  const hue = ((h % 360) + 360) % 360;
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const hp = hue / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  let r = 0;
  let g = 0;
  let b = 0;
  if (hp < 1) [r, g, b] = [c, x, 0];
  else if (hp < 2) [r, g, b] = [x, c, 0];
  else if (hp < 3) [r, g, b] = [0, c, x];
  else if (hp < 4) [r, g, b] = [0, x, c];
  else if (hp < 5) [r, g, b] = [x, 0, c];
  else [r, g, b] = [c, 0, x];
  const m = l - c / 2;
  return [clampByte((r + m) * 255), clampByte((g + m) * 255), clampByte((b + m) * 255)];
}

function shade(c: Rgb, factor: number): Rgb {
  return [clampByte(c[0] * factor), clampByte(c[1] * factor), clampByte(c[2] * factor)];
}

function lighten(c: Rgb, t: number): Rgb {
  return [clampByte(c[0] + (255 - c[0]) * t), clampByte(c[1] + (255 - c[1]) * t), clampByte(c[2] + (255 - c[2]) * t)];
}

export const HAIR_COLORS: Readonly<Record<string, Rgb>> = {
  black: [28, 24, 24],
  brown: [96, 62, 38],
  blonde: [222, 188, 120],
  red: [170, 62, 30],
  auburn: [128, 48, 32],
  platinum: [232, 226, 210],
  gray: [150, 150, 152],
  grey: [150, 150, 152],
  white: [238, 236, 232],
  pink: [236, 130, 176],
  blue: [60, 100, 210],
  purple: [120, 66, 170],
  green: [60, 150, 90],
};

export const SKIN_TONES: Readonly<Record<string, Rgb>> = {
  caucasian: [240, 205, 180],
  black: [120, 80, 56],
  asian: [236, 200, 160],
  latino: [206, 160, 122],
  middle_eastern: [210, 165, 126],
  south_asian: [176, 124, 88],
  southeast_asian: [214, 168, 124],
  mixed: [196, 148, 112],
};

export const BACKGROUND_COLORS: Readonly<Record<string, Rgb>> = {
  white: [236, 236, 236],
  black: [24, 24, 28],
  gray: [128, 128, 132],
  grey: [128, 128, 132],
  red: [200, 70, 70],
  orange: [232, 140, 60],
  yellow: [236, 210, 90],
  green: [90, 170, 110],
  teal: [60, 160, 160],
  blue: [70, 120, 210],
  navy: [30, 46, 96],
  purple: [130, 90, 190],
  pink: [236, 150, 190],
  beige: [226, 210, 184],
  studio: [92, 100, 116],
  sunset: [240, 132, 96],
  night: [30, 32, 64],
  sky: [140, 190, 240],
};

function normalizeName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

function parseHex(name: string): Rgb | undefined {
  const m = /^#?([0-9a-f]{6})$/i.exec(name.trim());
  if (!m || m[1] === undefined) return undefined;
  const v = Number.parseInt(m[1], 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** Looks a colour name (or `#rrggbb`) up in `table`; undefined when unknown. */
export function lookupColor(table: Readonly<Record<string, Rgb>>, name: string | undefined): Rgb | undefined {
  if (name === undefined || name.trim() === '') return undefined;
  const hex = parseHex(name);
  if (hex) return hex;
  const key = normalizeName(name);
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

function seedSkin(seed: string): Rgb {
  // Interpolate along a plausible light→dark skin axis.
  const t = seedUnit(seed, 'skin');
  const light: Rgb = [244, 212, 186];
  const dark: Rgb = [104, 68, 46];
  const c = mix(light, dark, t);
  return [clampByte(c[0]), clampByte(c[1]), clampByte(c[2])];
}

function seedHair(seed: string): Rgb {
  const b = seedBytes(seed, 'hair');
  return hslToRgb(((b[0] ?? 0) / 255) * 360, 0.35 + ((b[1] ?? 0) / 255) * 0.4, 0.18 + ((b[2] ?? 0) / 255) * 0.45);
}

function seedBackground(seed: string): Rgb {
  const b = seedBytes(seed, 'background');
  return hslToRgb(((b[0] ?? 0) / 255) * 360, 0.35 + ((b[1] ?? 0) / 255) * 0.3, 0.5 + ((b[2] ?? 0) / 255) * 0.2);
}

export function resolveSkinTone(name: string | undefined, seed: string): Rgb {
  return lookupColor(SKIN_TONES, name) ?? seedSkin(seed);
}

export function resolveHairColor(name: string | undefined, seed: string): Rgb {
  return lookupColor(HAIR_COLORS, name) ?? seedHair(seed);
}

export function resolveBackground(name: string | undefined, seed: string): Rgb {
  return lookupColor(BACKGROUND_COLORS, name) ?? seedBackground(seed);
}

// ---------------------------------------------------------------------------
// Portrait
// ---------------------------------------------------------------------------

export type MouthShape = 'open' | 'frown' | 'wide_smile' | 'smile' | 'flat' | 'neutral';

const OPEN_EMOTIONS = new Set(['shocked', 'surprised', 'amazed', 'astonished', 'stunned', 'speechless']);
const FROWN_EMOTIONS = new Set(['crying', 'worried', 'scared', 'sad', 'afraid', 'anxious', 'upset', 'fearful', 'nervous']);
const WIDE_EMOTIONS = new Set(['excited', 'thrilled', 'ecstatic', 'joyful', 'laughing', 'elated']);
const SMILE_EMOTIONS = new Set(['happy', 'smiling', 'cheerful', 'content', 'confident', 'pleased']);
const FLAT_EMOTIONS = new Set(['angry', 'furious', 'annoyed', 'serious', 'determined']);

/** Maps a free-form emotion word onto one of the mouth shapes we can draw. */
export function mouthShapeForEmotion(emotion: string | undefined): MouthShape {
  const e = normalizeName(emotion ?? '');
  if (OPEN_EMOTIONS.has(e)) return 'open';
  if (FROWN_EMOTIONS.has(e)) return 'frown';
  if (WIDE_EMOTIONS.has(e)) return 'wide_smile';
  if (SMILE_EMOTIONS.has(e)) return 'smile';
  if (FLAT_EMOTIONS.has(e)) return 'flat';
  return 'neutral';
}

export interface PortraitOptions {
  width: number;
  height: number;
  seed: string;
  /** Ethnicity / skin tone name (see SKIN_TONES) or `#rrggbb`. */
  skinTone?: string;
  /** Hair colour name (see HAIR_COLORS) or `#rrggbb`. */
  hairColor?: string;
  /** Free-form emotion word; controls mouth, brows and eyes. */
  emotion?: string;
  /** Background colour name (see BACKGROUND_COLORS) or `#rrggbb`. */
  background?: string;
}

const IRIS_COLORS: readonly Rgb[] = [
  [92, 60, 36],
  [60, 110, 170],
  [70, 130, 80],
  [130, 100, 50],
  [110, 120, 130],
];

const CLOTHING_HUES = [0, 20, 45, 140, 200, 220, 260, 300, 330];

/**
 * Paints a simple stylised head-and-shoulders portrait. The result depends
 * only on the options (same options → byte-identical pixels).
 */
export function renderPortrait(opts: PortraitOptions): RgbaImage {
  const { width: W, height: H, seed } = opts;
  assertDimension('width', W, MAX_IMAGE_SIDE);
  assertDimension('height', H, MAX_IMAGE_SIDE);
  if (typeof seed !== 'string') throw new TypeError('seed must be a string');

  const skin = resolveSkinTone(opts.skinTone, seed);
  const hair = resolveHairColor(opts.hairColor, seed);
  const bg = resolveBackground(opts.background, seed);
  const shape = mouthShapeForEmotion(opts.emotion);
  const emotion = normalizeName(opts.emotion ?? '');
  const traits = seedBytes(seed, 'traits');
  const t = (i: number): number => (traits[i] ?? 0) / 255;

  const img = createImage(W, H);
  fillVerticalGradient(img, lighten(bg, 0.25), shade(bg, 0.7));
  // Soft vignette-ish spot behind the head.
  const S = Math.min(W, H * 0.8);
  const cx = W / 2;
  const headCy = H * 0.44;
  fillEllipse(img, cx, headCy, S * 0.55, S * 0.55, [...lighten(bg, 0.4), 70]);

  const headRx = S * (0.24 + t(0) * 0.04);
  const headRy = headRx * (1.28 + t(1) * 0.1);
  const longHair = t(2) > 0.45;
  const partOffset = (t(3) - 0.5) * 0.3 * headRx;
  const skinShadow = shade(skin, 0.86);
  const hairDark = shade(hair, 0.75);

  // Clothing / shoulders.
  const clothHue = CLOTHING_HUES[Math.floor(t(4) * CLOTHING_HUES.length) % CLOTHING_HUES.length] ?? 200;
  const cloth = hslToRgb(clothHue, 0.45, 0.3 + t(5) * 0.25);
  const shoulderCy = headCy + headRy + S * 0.62;

  // Long hair falls behind the shoulders.
  if (longHair) {
    fillEllipse(img, cx, headCy + headRy * 0.45, headRx * 1.32, headRy * 1.35, hairDark);
  }
  fillEllipse(img, cx, shoulderCy, S * 0.62, S * 0.5, cloth);
  // Neck, ending in a rounded neckline.
  const shoulderTop = shoulderCy - S * 0.5;
  const neckTop = headCy + headRy * 0.5;
  fillRect(img, cx - headRx * 0.42, neckTop, headRx * 0.84, shoulderTop + S * 0.02 - neckTop, skinShadow);
  fillEllipse(img, cx, shoulderTop, headRx * 0.5, S * 0.07, skinShadow, { minY: shoulderTop });
  // Back hair volume.
  fillEllipse(img, cx, headCy - headRy * 0.12, headRx * 1.16, headRy * 1.04, hair);
  // Ears.
  fillEllipse(img, cx - headRx * 0.98, headCy + headRy * 0.05, headRx * 0.16, headRy * 0.17, skinShadow);
  fillEllipse(img, cx + headRx * 0.98, headCy + headRy * 0.05, headRx * 0.16, headRy * 0.17, skinShadow);
  // Head.
  fillEllipse(img, cx, headCy, headRx, headRy, skin);
  // Fringe: a hair cap with a flat lower edge.
  fillEllipse(img, cx + partOffset, headCy - headRy * 0.5, headRx * 1.06, headRy * 0.58, hair, {
    maxY: headCy - headRy * (0.38 + t(6) * 0.12),
  });
  fillEllipse(img, cx + partOffset * 2, headCy - headRy * 0.8, headRx * 0.42, headRy * 0.1, [...lighten(hair, 0.3), 90]);

  // Eyes.
  const eyeY = headCy - headRy * 0.02;
  const eyeDx = headRx * 0.4;
  const wideEyes = shape === 'open' || emotion === 'scared' || emotion === 'afraid';
  const eyeRx = headRx * 0.2;
  const eyeRy = headRy * (wideEyes ? 0.13 : 0.095);
  const iris = IRIS_COLORS[Math.floor(t(7) * IRIS_COLORS.length) % IRIS_COLORS.length] ?? [92, 60, 36];
  for (const side of [-1, 1]) {
    const ex = cx + side * eyeDx;
    fillEllipse(img, ex, eyeY, eyeRx, eyeRy, [250, 250, 248]);
    fillCircle(img, ex, eyeY, Math.min(eyeRx, eyeRy) * 0.85, iris);
    fillCircle(img, ex, eyeY, Math.min(eyeRx, eyeRy) * 0.42, [16, 14, 14]);
    fillCircle(img, ex + eyeRx * 0.22, eyeY - eyeRy * 0.3, Math.max(0.8, eyeRx * 0.12), [255, 255, 255]);
    // Upper lid line.
    fillEllipse(img, ex, eyeY - eyeRy * 0.95, eyeRx * 1.02, Math.max(1, eyeRy * 0.18), shade(skin, 0.55));
  }

  // Eyebrows: (outer y, inner y) offsets relative to the eye, in head-height units.
  let outer = -0.2;
  let inner = -0.2;
  if (shape === 'open') {
    outer = -0.27;
    inner = -0.28;
  } else if (shape === 'frown') {
    outer = -0.18;
    inner = -0.25;
  } else if (shape === 'flat' && (emotion === 'angry' || emotion === 'furious' || emotion === 'annoyed')) {
    outer = -0.22;
    inner = -0.14;
  } else if (shape === 'wide_smile') {
    outer = -0.23;
    inner = -0.23;
  }
  const browR = Math.max(1, headRy * 0.022);
  for (const side of [-1, 1]) {
    const ex = cx + side * eyeDx;
    fillCapsule(img, ex + side * eyeRx * 1.05, eyeY + headRy * outer, ex - side * eyeRx * 0.85, eyeY + headRy * inner, browR, hairDark);
  }

  // Nose.
  fillEllipse(img, cx, headCy + headRy * 0.22, headRx * 0.08, headRy * 0.11, skinShadow);
  fillEllipse(img, cx, headCy + headRy * 0.3, headRx * 0.13, headRy * 0.04, shade(skin, 0.78));

  // Cheeks.
  if (shape === 'wide_smile' || shape === 'smile') {
    for (const side of [-1, 1]) {
      fillEllipse(img, cx + side * headRx * 0.55, headCy + headRy * 0.3, headRx * 0.16, headRy * 0.08, [236, 110, 120, 90]);
    }
  }

  // Mouth.
  const my = headCy + headRy * 0.52;
  const lip: Rgb = [clampByte(skin[0] * 0.72 + 40), clampByte(skin[1] * 0.45), clampByte(skin[2] * 0.48)];
  const mouthDark: Rgb = [70, 22, 30];
  switch (shape) {
    case 'open':
      fillEllipse(img, cx, my + headRy * 0.03, headRx * 0.15, headRy * 0.13, lip);
      fillEllipse(img, cx, my + headRy * 0.03, headRx * 0.11, headRy * 0.1, mouthDark);
      break;
    case 'frown':
      fillEllipse(img, cx, my + headRy * 0.06, headRx * 0.28, headRy * 0.1, lip);
      fillEllipse(img, cx, my + headRy * 0.12, headRx * 0.34, headRy * 0.1, skin);
      break;
    case 'wide_smile':
      fillEllipse(img, cx, my - headRy * 0.02, headRx * 0.42, headRy * 0.2, lip, { minY: my - headRy * 0.02 });
      fillEllipse(img, cx, my - headRy * 0.02, headRx * 0.37, headRy * 0.16, mouthDark, { minY: my - headRy * 0.01 });
      fillEllipse(img, cx, my - headRy * 0.02, headRx * 0.36, headRy * 0.16, [250, 250, 246], {
        minY: my - headRy * 0.01,
        maxY: my + headRy * 0.045,
      });
      fillEllipse(img, cx, my + headRy * 0.12, headRx * 0.16, headRy * 0.05, [210, 90, 100]);
      break;
    case 'smile':
      fillEllipse(img, cx, my, headRx * 0.32, headRy * 0.11, lip);
      fillEllipse(img, cx, my - headRy * 0.05, headRx * 0.38, headRy * 0.11, skin);
      break;
    case 'flat':
      fillCapsule(img, cx - headRx * 0.24, my, cx + headRx * 0.24, my, Math.max(1, headRy * 0.025), lip);
      break;
    default:
      fillEllipse(img, cx, my, headRx * 0.25, headRy * 0.04, lip);
      break;
  }

  // Tears.
  if (emotion === 'crying') {
    for (const side of [-1, 1]) {
      const ex = cx + side * eyeDx;
      fillEllipse(img, ex + side * eyeRx * 0.4, eyeY + eyeRy * 2.2, eyeRx * 0.18, eyeRy * 0.7, [140, 200, 250, 220]);
      fillEllipse(img, ex + side * eyeRx * 0.55, eyeY + eyeRy * 4, eyeRx * 0.14, eyeRy * 0.5, [140, 200, 250, 200]);
    }
  }
  return img;
}
