/**
 * Turns a still image into a short H.264/MP4 clip with a gentle "Ken Burns"
 * zoom or pan, without FFmpeg.
 *
 * Keyframes are IDR pictures of raw (I_PCM) samples rendered from the source
 * at the exact zoom/pan of that instant. The frames in between are P pictures
 * whose macroblocks only carry full-sample motion vectors (no residual), so
 * the decoder warps the previous picture; the per-macroblock displacement is
 * accumulated with error diffusion so slow sub-pixel motion still happens.
 * Macroblocks whose prediction would have to come from outside the visible
 * picture are refreshed as I_PCM.
 */
import type { Buffer } from 'node:buffer';
import { H264BaselineEncoder, MAX_MV_QPEL, rgbaToYuv420Region, toAvccSample, type YuvFrame } from './h264.js';
import { assertImage, coverScale, renderView, renderViewInto, type ImageView, type RgbaImage } from './image.js';
import { muxMp4, type Mp4Sample } from './mp4.js';

export type ClipMotion = 'zoom-in' | 'zoom-out' | 'pan' | 'none';

export interface ClipOptions {
  /** Source picture; it is scaled and centre-cropped to cover width×height. */
  image: RgbaImage;
  /** Output width in pixels (even, 16..1920). */
  width: number;
  /** Output height in pixels (even, 16..1920). */
  height: number;
  /** Frames per second (0 < fps <= 60). */
  fps: number;
  /** Clip length in seconds (0 < d <= 60); rounded to a whole number of frames (at least one). */
  durationSeconds: number;
  /** Distance between IDR pictures in frames. Default: {@link defaultKeyframeInterval} (≈ one per second). */
  keyframeIntervalFrames?: number;
  /** Camera motion. Default 'zoom-in' (1.00 → 1 + motionAmount towards the centre). */
  motion?: ClipMotion;
  /** Zoom amount (0..0.5). Default 0.08. Pan uses a fixed 1 + motionAmount zoom and travels across the margin. */
  motionAmount?: number;
}

export interface ClipInfo {
  mp4: Buffer;
  frameCount: number;
  keyframeCount: number;
  levelIdc: number;
  /** Number of I_PCM macroblocks sent inside P pictures (edge refresh). */
  refreshedMacroblocks: number;
}

export const CLIP_LIMITS = {
  minSide: 16,
  maxSide: 1920,
  /** Max width×height (1080p worth of pixels). */
  maxPixels: 1920 * 1080,
  maxFps: 60,
  maxDurationSeconds: 60,
  maxMotionAmount: 0.5,
} as const;

/** Largest displacement per frame per macroblock that is sent as a vector (pixels). */
const MAX_STEP_PX = Math.floor(MAX_MV_QPEL / 4);

function validate(opts: ClipOptions): void {
  const { width, height, fps, durationSeconds } = opts;
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < CLIP_LIMITS.minSide || v > CLIP_LIMITS.maxSide) {
      throw new RangeError(`${name} must be an integer between ${CLIP_LIMITS.minSide} and ${CLIP_LIMITS.maxSide}, got ${String(v)}`);
    }
    if (v % 2 !== 0) throw new RangeError(`${name} must be even (4:2:0 chroma), got ${v}`);
  }
  if (width * height > CLIP_LIMITS.maxPixels) {
    throw new RangeError(`width×height must be at most ${CLIP_LIMITS.maxPixels} pixels, got ${width * height}`);
  }
  if (typeof fps !== 'number' || !Number.isFinite(fps) || fps <= 0 || fps > CLIP_LIMITS.maxFps) {
    throw new RangeError(`fps must be > 0 and <= ${CLIP_LIMITS.maxFps}, got ${String(fps)}`);
  }
  if (
    typeof durationSeconds !== 'number' ||
    !Number.isFinite(durationSeconds) ||
    durationSeconds <= 0 ||
    durationSeconds > CLIP_LIMITS.maxDurationSeconds
  ) {
    throw new RangeError(`durationSeconds must be > 0 and <= ${CLIP_LIMITS.maxDurationSeconds}, got ${String(durationSeconds)}`);
  }
  const k = opts.keyframeIntervalFrames;
  if (k !== undefined && (!Number.isInteger(k) || k < 1 || k > 100_000)) {
    throw new RangeError(`keyframeIntervalFrames must be a positive integer, got ${String(k)}`);
  }
  const a = opts.motionAmount;
  if (a !== undefined && (!Number.isFinite(a) || a < 0 || a > CLIP_LIMITS.maxMotionAmount)) {
    throw new RangeError(`motionAmount must be between 0 and ${CLIP_LIMITS.maxMotionAmount}, got ${String(a)}`);
  }
  const m = opts.motion;
  if (m !== undefined && m !== 'zoom-in' && m !== 'zoom-out' && m !== 'pan' && m !== 'none') {
    throw new RangeError(`motion must be 'zoom-in', 'zoom-out', 'pan' or 'none', got ${String(m)}`);
  }
  if (!opts.image || typeof opts.image !== 'object') throw new RangeError('image is required');
  assertImage(opts.image, 'image');
}

/** Keyframe (raw I_PCM) bytes per second the default interval aims to stay under. */
const KEYFRAME_BUDGET_BYTES_PER_SECOND = 1.5 * 1024 * 1024;

/**
 * Default IDR spacing: one keyframe per second, stretched for large frames so
 * raw keyframes stay under ~1.5 MiB/s (a 360x640 keyframe is ~355 KB).
 */
export function defaultKeyframeInterval(width: number, height: number, fps: number): number {
  const idrBytes = Math.ceil(width / 16) * Math.ceil(height / 16) * 386;
  return Math.max(1, Math.round(fps), Math.ceil((idrBytes * fps) / KEYFRAME_BUDGET_BYTES_PER_SECOND));
}

/** Number of frames a clip with these options will contain. */
export function clipFrameCount(fps: number, durationSeconds: number): number {
  return Math.max(1, Math.round(fps * durationSeconds));
}

/**
 * Camera view (source → output mapping) for frame `index` of `frameCount`.
 * Exported so callers/tests can render the exact expected picture.
 */
export function clipViewAt(
  src: { width: number; height: number },
  width: number,
  height: number,
  motion: ClipMotion,
  amount: number,
  index: number,
  frameCount: number,
): ImageView {
  const u = frameCount > 1 ? index / (frameCount - 1) : 0;
  const base = coverScale(src, width, height);
  const cx = src.width / 2;
  const cy = src.height / 2;
  switch (motion) {
    case 'zoom-in':
      return { scale: base * (1 + amount * u), centerX: cx, centerY: cy };
    case 'zoom-out':
      return { scale: base * (1 + amount * (1 - u)), centerX: cx, centerY: cy };
    case 'pan': {
      const scale = base * (1 + amount);
      const visW = width / scale;
      const visH = height / scale;
      const marginX = (src.width - visW) / 2;
      const marginY = (src.height - visH) / 2;
      const t = 2 * u - 1; // −1 … 1
      if (marginX >= marginY) {
        const range = Math.min(marginX, visW * 0.1);
        return { scale, centerX: cx + range * t, centerY: cy };
      }
      const range = Math.min(marginY, visH * 0.1);
      return { scale, centerX: cx, centerY: cy + range * t };
    }
    default:
      return { scale: base, centerX: cx, centerY: cy };
  }
}

/** Encodes the clip and reports a few statistics alongside the MP4 bytes. */
export function encodeClip(opts: ClipOptions): ClipInfo {
  validate(opts);
  const { image, width: W, height: H, fps, durationSeconds } = opts;
  const motion: ClipMotion = opts.motion ?? 'zoom-in';
  const amount = opts.motionAmount ?? 0.08;
  const frameCount = clipFrameCount(fps, durationSeconds);
  const mbW = Math.ceil(W / 16);
  const mbH = Math.ceil(H / 16);
  const idrBytes = mbW * mbH * 386;
  const keyInterval = opts.keyframeIntervalFrames ?? defaultKeyframeInterval(W, H, fps);
  const keyframeCount = Math.ceil(frameCount / keyInterval);
  const seconds = frameCount / fps;
  const bitrateKbps = (keyframeCount * idrBytes * 8) / Math.max(seconds, 1) / 1000;
  const enc = new H264BaselineEncoder({ width: W, height: H, fps, bitrateKbps });

  const view = (i: number): ImageView => clipViewAt(image, W, H, motion, amount, i, frameCount);
  const renderYuv = (v: ImageView): YuvFrame => enc.frameFromRgba(renderView(image, W, H, v));

  const nMb = mbW * mbH;
  const accX = new Float64Array(nMb);
  const accY = new Float64Array(nMb);
  const mv = new Int32Array(nMb * 2);
  const intra = new Uint8Array(nMb);
  const samples: Mp4Sample[] = [];
  let refreshed = 0;
  // Scratch pictures for refreshed (I_PCM) macroblocks inside P pictures:
  // only those macroblocks are rendered and converted.
  const refreshRgba: RgbaImage = { width: W, height: H, data: new Uint8Array(W * H * 4) };
  const refreshYuv: YuvFrame = {
    width: enc.codedWidth,
    height: enc.codedHeight,
    y: new Uint8Array(enc.codedWidth * enc.codedHeight),
    u: new Uint8Array((enc.codedWidth * enc.codedHeight) / 4),
    v: new Uint8Array((enc.codedWidth * enc.codedHeight) / 4),
  };

  for (let i = 0; i < frameCount; i++) {
    const cur = view(i);
    if (i % keyInterval === 0) {
      samples.push({ data: toAvccSample(enc.encodeIdr(renderYuv(cur))), keyframe: true });
      accX.fill(0);
      accY.fill(0);
      continue;
    }
    const prev = view(i - 1);
    intra.fill(0);
    let anyIntra = false;
    for (let mby = 0; mby < mbH; mby++) {
      const y0 = mby * 16;
      const y1 = Math.min(y0 + 16, H);
      const py = (y0 + y1) / 2;
      // Where this output point was in the previous frame (output pixels).
      const srcY = cur.centerY + (py - H / 2) / cur.scale;
      const dy = H / 2 + (srcY - prev.centerY) * prev.scale - py;
      for (let mbx = 0; mbx < mbW; mbx++) {
        const b = mby * mbW + mbx;
        const x0 = mbx * 16;
        const x1 = Math.min(x0 + 16, W);
        const px = (x0 + x1) / 2;
        const srcX = cur.centerX + (px - W / 2) / cur.scale;
        const dx = W / 2 + (srcX - prev.centerX) * prev.scale - px;
        const ax = (accX[b] ?? 0) + dx;
        const ay = (accY[b] ?? 0) + dy;
        const mx = Math.round(ax);
        const my = Math.round(ay);
        const inside = x0 + mx >= 0 && x1 + mx <= W && y0 + my >= 0 && y1 + my <= H;
        if (!inside || Math.abs(mx) > MAX_STEP_PX || Math.abs(my) > MAX_STEP_PX) {
          intra[b] = 1;
          anyIntra = true;
          accX[b] = 0;
          accY[b] = 0;
          mv[b * 2] = 0;
          mv[b * 2 + 1] = 0;
          continue;
        }
        accX[b] = ax - mx;
        accY[b] = ay - my;
        mv[b * 2] = mx * 4;
        mv[b * 2 + 1] = my * 4;
      }
    }
    if (anyIntra) {
      for (let b = 0; b < nMb; b++) {
        if (!intra[b]) continue;
        refreshed++;
        const x0 = (b % mbW) * 16;
        const y0 = Math.floor(b / mbW) * 16;
        renderViewInto(refreshRgba, image, cur, x0, y0, x0 + 16, y0 + 16);
        rgbaToYuv420Region(refreshRgba, refreshYuv, x0, y0, x0 + 16, y0 + 16);
      }
      const nals = enc.encodeP({ mv, intra, source: refreshYuv });
      samples.push({ data: toAvccSample(nals), keyframe: false });
    } else {
      samples.push({ data: toAvccSample(enc.encodeP({ mv })), keyframe: false });
    }
  }

  const mp4 = muxMp4({ width: W, height: H, fps, sps: enc.sps, pps: enc.pps, samples });
  return { mp4, frameCount, keyframeCount, levelIdc: enc.levelIdc, refreshedMacroblocks: refreshed };
}

/** Renders `image` as an animated H.264 Baseline MP4 clip (see {@link ClipOptions}). */
export function renderClip(opts: ClipOptions): Buffer {
  return encodeClip(opts).mp4;
}
