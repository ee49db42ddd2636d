/**
 * Minimal H.264 / AVC Constrained Baseline elementary-stream writer.
 *
 * Supported coding tools (enough to carry real pictures without any transform
 * or entropy-coded residual):
 *  - IDR pictures made only of I_PCM macroblocks (raw 8-bit 4:2:0 samples);
 *  - P pictures made of P_Skip, P_L0_16x16 (one motion vector, no residual,
 *    coded_block_pattern 0) and I_PCM macroblocks.
 *
 * One slice per picture, CAVLC, one reference frame, pic_order_cnt_type 2,
 * deblocking disabled in every slice header. Pixels are BT.601 limited range.
 */
import { Buffer } from 'node:buffer';
import type { RgbaImage } from './image.js';

// ---------------------------------------------------------------------------
// Bit writer (RBSP)
// ---------------------------------------------------------------------------

/** Big-endian bit writer producing RBSP bytes (no emulation prevention). */
export class BitWriter {
  private buf: Uint8Array;
  private len = 0; // completed bytes
  private cur = 0; // pending bits, MSB-first
  private curBits = 0; // number of pending bits (0..7)

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Number of bits written so far. */
  get bitLength(): number {
    return this.len * 8 + this.curBits;
  }

  get byteAligned(): boolean {
    return this.curBits === 0;
  }

  /** Single bit. */
  bit(b: number | boolean): void {
    this.cur = (this.cur << 1) | (b ? 1 : 0);
    this.curBits++;
    if (this.curBits === 8) {
      this.ensure(1);
      this.buf[this.len++] = this.cur;
      this.cur = 0;
      this.curBits = 0;
    }
  }

  /** u(n): unsigned integer in `n` bits (0 <= n <= 32). */
  u(n: number, value: number): void {
    if (!Number.isInteger(n) || n < 0 || n > 32) throw new RangeError(`u(n): bad bit count ${n}`);
    if (!Number.isInteger(value) || value < 0 || (n < 32 && value >= 2 ** n) || value > 0xffffffff) {
      throw new RangeError(`u(${n}): value ${value} out of range`);
    }
    for (let i = n - 1; i >= 0; i--) {
      // Use division rather than >> so 32-bit values work.
      this.bit(Math.floor(value / 2 ** i) & 1);
    }
  }

  /** ue(v): unsigned Exp-Golomb. */
  ue(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xfffffffe) {
      throw new RangeError(`ue(v): value ${value} out of range`);
    }
    const x = value + 1;
    const bits = 32 - Math.clz32(x);
    for (let i = 0; i < bits - 1; i++) this.bit(0);
    this.u(bits, x);
  }

  /** se(v): signed Exp-Golomb (k > 0 → 2k − 1, k <= 0 → −2k). */
  se(value: number): void {
    if (!Number.isInteger(value)) throw new RangeError(`se(v): value ${value} is not an integer`);
    this.ue(value > 0 ? 2 * value - 1 : -2 * value);
  }

  /** Pads with zero bits up to the next byte boundary (e.g. pcm_alignment_zero_bit). */
  alignZero(): void {
    while (this.curBits !== 0) this.bit(0);
  }

  /** Appends whole bytes; the writer must be byte aligned. */
  bytes(data: Uint8Array): void {
    if (this.curBits !== 0) throw new Error('BitWriter.bytes: not byte aligned');
    this.ensure(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  /** rbsp_trailing_bits(): a one bit followed by zero bits to alignment. */
  trailingBits(): void {
    this.bit(1);
    this.alignZero();
  }

  /** Returns the written bytes; the writer must be byte aligned. */
  finish(): Uint8Array {
    if (this.curBits !== 0) throw new Error('BitWriter.finish: not byte aligned');
    return this.buf.slice(0, this.len);
  }
}

/**
 * Inserts emulation_prevention_three_byte (0x03) wherever two zero bytes are
 * followed by a byte <= 0x03, so no start-code prefix can appear in a NAL unit.
 */
export function escapeRbsp(rbsp: Uint8Array): Uint8Array {
  let extra = 0;
  let zeros = 0;
  for (let i = 0; i < rbsp.length; i++) {
    const b = rbsp[i] ?? 0;
    if (zeros >= 2 && b <= 3) {
      extra++;
      zeros = 0;
    }
    zeros = b === 0 ? zeros + 1 : 0;
  }
  if (extra === 0) return rbsp;
  const out = new Uint8Array(rbsp.length + extra);
  let o = 0;
  zeros = 0;
  for (let i = 0; i < rbsp.length; i++) {
    const b = rbsp[i] ?? 0;
    if (zeros >= 2 && b <= 3) {
      out[o++] = 3;
      zeros = 0;
    }
    out[o++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out;
}

/** Builds a NAL unit (1-byte header + escaped RBSP), without start code or length. */
export function makeNalUnit(nalRefIdc: number, nalUnitType: number, rbsp: Uint8Array): Uint8Array {
  if (nalRefIdc < 0 || nalRefIdc > 3 || nalUnitType < 1 || nalUnitType > 31) {
    throw new RangeError('makeNalUnit: bad nal_ref_idc or nal_unit_type');
  }
  const body = escapeRbsp(rbsp);
  const out = new Uint8Array(1 + body.length);
  out[0] = (nalRefIdc << 5) | nalUnitType;
  out.set(body, 1);
  return out;
}

/** Concatenates NAL units as an AVCC / MP4 sample (4-byte big-endian lengths). */
export function toAvccSample(nalUnits: readonly Uint8Array[]): Buffer {
  const total = nalUnits.reduce((n, u) => n + 4 + u.length, 0);
  const out = Buffer.alloc(total);
  let o = 0;
  for (const u of nalUnits) {
    out.writeUInt32BE(u.length, o);
    out.set(u, o + 4);
    o += 4 + u.length;
  }
  return out;
}

/** Concatenates NAL units as an Annex B byte stream (4-byte start codes). */
export function toAnnexB(nalUnits: readonly Uint8Array[]): Buffer {
  const total = nalUnits.reduce((n, u) => n + 4 + u.length, 0);
  const out = Buffer.alloc(total);
  let o = 0;
  for (const u of nalUnits) {
    out.writeUInt32BE(1, o);
    out.set(u, o + 4);
    o += 4 + u.length;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Levels
// ---------------------------------------------------------------------------

interface LevelLimits {
  idc: number;
  maxMbps: number;
  maxFs: number;
  /** Baseline MaxBR in units of 1000 bit/s. */
  maxBrKbps: number;
  minCr: number;
}

// Table A-1 of ITU-T H.264 (level 1b omitted: it needs constraint_set3_flag).
const LEVELS: readonly LevelLimits[] = [
  { idc: 10, maxMbps: 1485, maxFs: 99, maxBrKbps: 64, minCr: 2 },
  { idc: 11, maxMbps: 3000, maxFs: 396, maxBrKbps: 192, minCr: 2 },
  { idc: 12, maxMbps: 6000, maxFs: 396, maxBrKbps: 384, minCr: 2 },
  { idc: 13, maxMbps: 11880, maxFs: 396, maxBrKbps: 768, minCr: 2 },
  { idc: 20, maxMbps: 11880, maxFs: 396, maxBrKbps: 2000, minCr: 2 },
  { idc: 21, maxMbps: 19800, maxFs: 792, maxBrKbps: 4000, minCr: 2 },
  { idc: 22, maxMbps: 20250, maxFs: 1620, maxBrKbps: 4000, minCr: 2 },
  { idc: 30, maxMbps: 40500, maxFs: 1620, maxBrKbps: 10000, minCr: 2 },
  { idc: 31, maxMbps: 108000, maxFs: 3600, maxBrKbps: 14000, minCr: 4 },
  { idc: 32, maxMbps: 216000, maxFs: 5120, maxBrKbps: 20000, minCr: 4 },
  { idc: 40, maxMbps: 245760, maxFs: 8192, maxBrKbps: 20000, minCr: 4 },
  { idc: 41, maxMbps: 245760, maxFs: 8192, maxBrKbps: 50000, minCr: 2 },
  { idc: 42, maxMbps: 522240, maxFs: 8704, maxBrKbps: 50000, minCr: 2 },
  { idc: 50, maxMbps: 589824, maxFs: 22080, maxBrKbps: 135000, minCr: 2 },
  { idc: 51, maxMbps: 983040, maxFs: 36864, maxBrKbps: 240000, minCr: 2 },
  { idc: 52, maxMbps: 2073600, maxFs: 36864, maxBrKbps: 240000, minCr: 2 },
];

export interface LevelRequirements {
  mbWidth: number;
  mbHeight: number;
  fps: number;
  /** Largest access unit in bytes (checked against the MinCR limits). */
  maxAccessUnitBytes?: number;
  /** Average bit rate in kbit/s (checked against MaxBR). */
  bitrateKbps?: number;
}

/**
 * Smallest level_idc whose Table A-1 limits (frame size, macroblock rate,
 * bit rate, and the MinCR access-unit size bound) fit the stream; 52 when
 * nothing fits.
 */
export function chooseLevel(req: LevelRequirements): number {
  const picSize = req.mbWidth * req.mbHeight;
  for (const l of LEVELS) {
    const maxSide = Math.sqrt(8 * l.maxFs);
    if (picSize > l.maxFs || req.mbWidth > maxSide || req.mbHeight > maxSide) continue;
    if (picSize * req.fps > l.maxMbps) continue;
    if (req.bitrateKbps !== undefined && req.bitrateKbps > l.maxBrKbps) continue;
    if (req.maxAccessUnitBytes !== undefined) {
      const first = (384 * Math.max(picSize, l.maxMbps / 172)) / l.minCr;
      const later = (384 * l.maxMbps) / req.fps / l.minCr;
      if (req.maxAccessUnitBytes > first || req.maxAccessUnitBytes > later) continue;
    }
    return l.idc;
  }
  return 52;
}

// ---------------------------------------------------------------------------
// Pictures
// ---------------------------------------------------------------------------

/** Planar 4:2:0 picture; width/height are the coded (macroblock-aligned) size. */
export interface YuvFrame {
  width: number;
  height: number;
  y: Uint8Array;
  u: Uint8Array;
  v: Uint8Array;
}

function clampSample(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

/**
 * Converts RGBA to BT.601 limited-range 4:2:0 (chroma from the 2×2 average).
 * The image is placed top-left in a codedWidth×codedHeight frame; the padding
 * replicates the last column/row so motion compensation near edges is sane.
 * Alpha is ignored.
 */
export function rgbaToYuv420(image: RgbaImage, codedWidth: number, codedHeight: number): YuvFrame {
  if (codedWidth % 16 !== 0 || codedHeight % 16 !== 0) {
    throw new RangeError('coded size must be a multiple of 16');
  }
  const frame: YuvFrame = {
    width: codedWidth,
    height: codedHeight,
    y: new Uint8Array(codedWidth * codedHeight),
    u: new Uint8Array((codedWidth * codedHeight) / 4),
    v: new Uint8Array((codedWidth * codedHeight) / 4),
  };
  rgbaToYuv420Region(image, frame, 0, 0, codedWidth, codedHeight);
  return frame;
}

/**
 * Converts only the coded-sample rectangle [x0, x1) × [y0, y1) (even
 * coordinates) of `image` into an existing frame, with the same edge
 * replication as {@link rgbaToYuv420}.
 */
export function rgbaToYuv420Region(image: RgbaImage, frame: YuvFrame, x0: number, y0: number, x1: number, y1: number): void {
  const codedWidth = frame.width;
  const codedHeight = frame.height;
  if (image.width > codedWidth || image.height > codedHeight) {
    throw new RangeError('image is larger than the coded frame');
  }
  if ([x0, y0, x1, y1].some((v) => !Number.isInteger(v) || v % 2 !== 0)) {
    throw new RangeError('region coordinates must be even integers');
  }
  const rx0 = Math.max(0, x0);
  const ry0 = Math.max(0, y0);
  const rx1 = Math.min(codedWidth, x1);
  const ry1 = Math.min(codedHeight, y1);
  const { width: w, height: h, data } = image;
  const { y, u, v } = frame;
  for (let py = ry0; py < ry1; py++) {
    const sy = py < h ? py : h - 1;
    for (let px = rx0; px < rx1; px++) {
      const sx = px < w ? px : w - 1;
      const i = (sy * w + sx) * 4;
      const r = data[i] ?? 0;
      const g = data[i + 1] ?? 0;
      const b = data[i + 2] ?? 0;
      y[py * codedWidth + px] = clampSample(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
    }
  }
  const cw = codedWidth >> 1;
  for (let cy = ry0 >> 1; cy < ry1 >> 1; cy++) {
    for (let cx = rx0 >> 1; cx < rx1 >> 1; cx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let dy = 0; dy < 2; dy++) {
        const py = Math.min(cy * 2 + dy, h - 1);
        for (let dx = 0; dx < 2; dx++) {
          const px = Math.min(cx * 2 + dx, w - 1);
          const i = (py * w + px) * 4;
          r += data[i] ?? 0;
          g += data[i + 1] ?? 0;
          b += data[i + 2] ?? 0;
        }
      }
      r /= 4;
      g /= 4;
      b /= 4;
      u[cy * cw + cx] = clampSample(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
      v[cy * cw + cx] = clampSample(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
    }
  }
}

// ---------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------

export const NAL_SLICE = 1;
export const NAL_IDR = 5;
export const NAL_SPS = 7;
export const NAL_PPS = 8;

const SLICE_P = 5; // all slices of the picture are P
const SLICE_I = 7; // all slices of the picture are I
const MB_TYPE_I_PCM_IN_I = 25;
const MB_TYPE_I_PCM_IN_P = 30; // 5 + 25
const MB_TYPE_P_L0_16X16 = 0;
const LOG2_MAX_FRAME_NUM = 8;
/** Largest |motion vector component| accepted, in quarter luma samples (63.75 px). */
export const MAX_MV_QPEL = 255;

export interface H264EncoderOptions {
  /** Visible width in pixels (even). */
  width: number;
  /** Visible height in pixels (even). */
  height: number;
  /** Frame rate written into the VUI timing info. */
  fps: number;
  /** Force a level_idc; otherwise {@link chooseLevel} is used. */
  levelIdc?: number;
  /** Average bit-rate estimate used for the automatic level choice. */
  bitrateKbps?: number;
}

/**
 * Per-macroblock plan for a P picture, in macroblock raster order.
 * `mv` holds (x, y) pairs in quarter-sample units: the macroblock is predicted
 * from the reference picture displaced by that vector. Macroblocks flagged in
 * `intra` are sent as I_PCM taken from `source` instead.
 */
export interface PFramePlan {
  mv?: Int16Array | Int32Array;
  intra?: Uint8Array;
  source?: YuvFrame;
}

/** Rational approximation (in thousandths) of the frame rate: fps = num / den. */
export function frameRateFraction(fps: number): { num: number; den: number } {
  let num = Math.round(fps * 1000);
  let den = 1000;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(num, den);
  num /= g;
  den /= g;
  return { num, den };
}

export class H264BaselineEncoder {
  readonly width: number;
  readonly height: number;
  readonly mbWidth: number;
  readonly mbHeight: number;
  readonly codedWidth: number;
  readonly codedHeight: number;
  readonly levelIdc: number;
  /** SPS NAL unit (header included, no start code / length). */
  readonly sps: Uint8Array;
  /** PPS NAL unit (header included, no start code / length). */
  readonly pps: Uint8Array;

  private frameNum = 0;
  private idrPicId = 0;
  private haveReference = false;
  private readonly fps: number;
  private readonly mvs: Int32Array; // per-MB decoded mv (x, y) of the current P picture
  private readonly refIdx: Int8Array; // per-MB refIdx (0 inter, -1 intra)

  constructor(opts: H264EncoderOptions) {
    const { width, height, fps } = opts;
    for (const [name, v] of [
      ['width', width],
      ['height', height],
    ] as const) {
      if (!Number.isInteger(v) || v < 2 || v % 2 !== 0 || v > 8192) {
        throw new RangeError(`${name} must be an even integer between 2 and 8192, got ${String(v)}`);
      }
    }
    if (!Number.isFinite(fps) || fps <= 0 || fps > 240) {
      throw new RangeError(`fps must be > 0 and <= 240, got ${String(fps)}`);
    }
    this.width = width;
    this.height = height;
    this.fps = fps;
    this.mbWidth = Math.ceil(width / 16);
    this.mbHeight = Math.ceil(height / 16);
    this.codedWidth = this.mbWidth * 16;
    this.codedHeight = this.mbHeight * 16;
    const pcmBytes = this.mbWidth * this.mbHeight * 386 + 64;
    this.levelIdc =
      opts.levelIdc ??
      chooseLevel({
        mbWidth: this.mbWidth,
        mbHeight: this.mbHeight,
        fps,
        maxAccessUnitBytes: pcmBytes,
        ...(opts.bitrateKbps !== undefined ? { bitrateKbps: opts.bitrateKbps } : {}),
      });
    this.mvs = new Int32Array(this.mbWidth * this.mbHeight * 2);
    this.refIdx = new Int8Array(this.mbWidth * this.mbHeight);
    this.sps = makeNalUnit(3, NAL_SPS, this.buildSps());
    this.pps = makeNalUnit(3, NAL_PPS, this.buildPps());
  }

  get macroblockCount(): number {
    return this.mbWidth * this.mbHeight;
  }

  private buildSps(): Uint8Array {
    const w = new BitWriter(64);
    w.u(8, 66); // profile_idc: Baseline
    w.bit(1); // constraint_set0_flag: obeys Baseline constraints
    w.bit(1); // constraint_set1_flag: obeys Main constraints → Constrained Baseline
    w.bit(0); // constraint_set2_flag
    w.bit(0); // constraint_set3_flag
    w.bit(0); // constraint_set4_flag
    w.bit(0); // constraint_set5_flag
    w.u(2, 0); // reserved_zero_2bits
    w.u(8, this.levelIdc);
    w.ue(0); // seq_parameter_set_id
    w.ue(LOG2_MAX_FRAME_NUM - 4); // log2_max_frame_num_minus4
    w.ue(2); // pic_order_cnt_type: output order = decoding order
    w.ue(1); // max_num_ref_frames
    w.bit(0); // gaps_in_frame_num_value_allowed_flag
    w.ue(this.mbWidth - 1); // pic_width_in_mbs_minus1
    w.ue(this.mbHeight - 1); // pic_height_in_map_units_minus1
    w.bit(1); // frame_mbs_only_flag
    w.bit(1); // direct_8x8_inference_flag
    const cropRight = (this.codedWidth - this.width) / 2; // CropUnitX = 2 for 4:2:0
    const cropBottom = (this.codedHeight - this.height) / 2; // CropUnitY = 2 for frames
    if (cropRight > 0 || cropBottom > 0) {
      w.bit(1); // frame_cropping_flag
      w.ue(0); // frame_crop_left_offset
      w.ue(cropRight);
      w.ue(0); // frame_crop_top_offset
      w.ue(cropBottom);
    } else {
      w.bit(0);
    }
    w.bit(1); // vui_parameters_present_flag
    this.writeVui(w);
    w.trailingBits();
    return w.finish();
  }

  private writeVui(w: BitWriter): void {
    w.bit(0); // aspect_ratio_info_present_flag (square pixels assumed)
    w.bit(0); // overscan_info_present_flag
    w.bit(1); // video_signal_type_present_flag
    w.u(3, 5); // video_format: unspecified
    w.bit(0); // video_full_range_flag: limited range
    w.bit(1); // colour_description_present_flag
    w.u(8, 6); // colour_primaries: SMPTE 170M
    w.u(8, 6); // transfer_characteristics: SMPTE 170M
    w.u(8, 6); // matrix_coefficients: SMPTE 170M (BT.601)
    w.bit(0); // chroma_loc_info_present_flag
    const { num, den } = frameRateFraction(this.fps);
    w.bit(1); // timing_info_present_flag
    w.u(32, den); // num_units_in_tick
    w.u(32, num * 2); // time_scale (two ticks per frame)
    w.bit(1); // fixed_frame_rate_flag
    w.bit(0); // nal_hrd_parameters_present_flag
    w.bit(0); // vcl_hrd_parameters_present_flag
    w.bit(0); // pic_struct_present_flag
    w.bit(1); // bitstream_restriction_flag
    w.bit(1); // motion_vectors_over_pic_boundaries_flag
    w.ue(0); // max_bytes_per_pic_denom (no limit)
    w.ue(0); // max_bits_per_mb_denom (no limit)
    w.ue(10); // log2_max_mv_length_horizontal
    w.ue(10); // log2_max_mv_length_vertical
    w.ue(0); // max_num_reorder_frames
    w.ue(1); // max_dec_frame_buffering
  }

  private buildPps(): Uint8Array {
    const w = new BitWriter(16);
    w.ue(0); // pic_parameter_set_id
    w.ue(0); // seq_parameter_set_id
    w.bit(0); // entropy_coding_mode_flag: CAVLC
    w.bit(0); // bottom_field_pic_order_in_frame_present_flag
    w.ue(0); // num_slice_groups_minus1
    w.ue(0); // num_ref_idx_l0_default_active_minus1
    w.ue(0); // num_ref_idx_l1_default_active_minus1
    w.bit(0); // weighted_pred_flag
    w.u(2, 0); // weighted_bipred_idc
    w.se(0); // pic_init_qp_minus26
    w.se(0); // pic_init_qs_minus26
    w.se(0); // chroma_qp_index_offset
    w.bit(1); // deblocking_filter_control_present_flag
    w.bit(0); // constrained_intra_pred_flag
    w.bit(0); // redundant_pic_cnt_present_flag
    w.trailingBits();
    return w.finish();
  }

  private sliceHeader(w: BitWriter, idr: boolean): void {
    w.ue(0); // first_mb_in_slice
    w.ue(idr ? SLICE_I : SLICE_P);
    w.ue(0); // pic_parameter_set_id
    w.u(LOG2_MAX_FRAME_NUM, this.frameNum);
    if (idr) {
      w.ue(this.idrPicId); // idr_pic_id
    } else {
      w.bit(0); // num_ref_idx_active_override_flag
      w.bit(0); // ref_pic_list_modification_flag_l0
    }
    // dec_ref_pic_marking() (every picture we emit is a reference picture)
    if (idr) {
      w.bit(0); // no_output_of_prior_pics_flag
      w.bit(0); // long_term_reference_flag
    } else {
      w.bit(0); // adaptive_ref_pic_marking_mode_flag: sliding window
    }
    w.se(0); // slice_qp_delta
    w.ue(1); // disable_deblocking_filter_idc: deblocking off
  }

  private checkFrame(frame: YuvFrame): void {
    const cw = this.codedWidth;
    const ch = this.codedHeight;
    if (
      frame.width !== cw ||
      frame.height !== ch ||
      frame.y.length !== cw * ch ||
      frame.u.length !== (cw * ch) / 4 ||
      frame.v.length !== (cw * ch) / 4
    ) {
      throw new RangeError(`frame must be a ${cw}x${ch} 4:2:0 picture`);
    }
  }

  private writePcmSamples(w: BitWriter, frame: YuvFrame, mbx: number, mby: number, scratch: Uint8Array): void {
    w.alignZero(); // pcm_alignment_zero_bit
    const cw = frame.width;
    let o = 0;
    for (let yy = 0; yy < 16; yy++) {
      const row = (mby * 16 + yy) * cw + mbx * 16;
      scratch.set(frame.y.subarray(row, row + 16), o);
      o += 16;
    }
    const ccw = cw >> 1;
    for (const plane of [frame.u, frame.v]) {
      for (let yy = 0; yy < 8; yy++) {
        const row = (mby * 8 + yy) * ccw + mbx * 8;
        scratch.set(plane.subarray(row, row + 8), o);
        o += 8;
      }
    }
    w.bytes(scratch);
  }

  /** Converts an RGBA image (at most the visible size) into this encoder's coded frame layout. */
  frameFromRgba(image: RgbaImage): YuvFrame {
    return rgbaToYuv420(image, this.codedWidth, this.codedHeight);
  }

  /** Encodes an IDR picture (all I_PCM). Returns its slice NAL unit(s). */
  encodeIdr(frame: YuvFrame): Uint8Array[] {
    this.checkFrame(frame);
    if (this.haveReference) this.idrPicId = (this.idrPicId + 1) % 65536;
    this.frameNum = 0;
    const w = new BitWriter(this.macroblockCount * 390 + 64);
    this.sliceHeader(w, true);
    const scratch = new Uint8Array(384);
    for (let mby = 0; mby < this.mbHeight; mby++) {
      for (let mbx = 0; mbx < this.mbWidth; mbx++) {
        w.ue(MB_TYPE_I_PCM_IN_I);
        this.writePcmSamples(w, frame, mbx, mby, scratch);
      }
    }
    w.trailingBits();
    this.haveReference = true;
    return [makeNalUnit(3, NAL_IDR, w.finish())];
  }

  /**
   * Encodes a P picture predicted from the previous picture. Without a plan
   * (or with all-zero vectors) every macroblock is P_Skip and the reference
   * is repeated.
   */
  encodeP(plan: PFramePlan = {}): Uint8Array[] {
    if (!this.haveReference) throw new Error('encodeP: the stream must start with an IDR picture');
    const n = this.macroblockCount;
    const { mv, intra, source } = plan;
    if (mv && mv.length !== n * 2) throw new RangeError(`plan.mv must hold ${n * 2} values`);
    if (intra && intra.length !== n) throw new RangeError(`plan.intra must hold ${n} values`);
    if (intra && intra.some((f) => f !== 0)) {
      if (!source) throw new RangeError('plan.source is required when intra macroblocks are present');
      this.checkFrame(source);
    }
    this.frameNum = (this.frameNum + 1) % (1 << LOG2_MAX_FRAME_NUM);
    const w = new BitWriter(64 + n * 2);
    this.sliceHeader(w, false);

    const W = this.mbWidth;
    const mvs = this.mvs;
    const ref = this.refIdx;
    const scratch = new Uint8Array(384);
    let skipRun = 0;
    for (let addr = 0; addr < n; addr++) {
      const mbx = addr % W;
      const mby = (addr - mbx) / W;
      if (intra && intra[addr]) {
        w.ue(skipRun);
        skipRun = 0;
        w.ue(MB_TYPE_I_PCM_IN_P);
        this.writePcmSamples(w, source as YuvFrame, mbx, mby, scratch);
        ref[addr] = -1;
        mvs[addr * 2] = 0;
        mvs[addr * 2 + 1] = 0;
        continue;
      }
      const dx = mv ? (mv[addr * 2] ?? 0) : 0;
      const dy = mv ? (mv[addr * 2 + 1] ?? 0) : 0;
      if (!Number.isInteger(dx) || !Number.isInteger(dy) || Math.abs(dx) > MAX_MV_QPEL || Math.abs(dy) > MAX_MV_QPEL) {
        throw new RangeError(`motion vector (${dx}, ${dy}) of macroblock ${addr} is out of range ±${MAX_MV_QPEL}`);
      }
      const pred = this.predictMv(mbx, mby);
      if (dx === pred.skipX && dy === pred.skipY) {
        skipRun++;
      } else {
        w.ue(skipRun);
        skipRun = 0;
        w.ue(MB_TYPE_P_L0_16X16);
        // ref_idx_l0 is absent: one active reference.
        w.se(dx - pred.x); // mvd_l0 x
        w.se(dy - pred.y); // mvd_l0 y
        w.ue(0); // coded_block_pattern me(v): codeNum 0 → cbp 0 for inter
      }
      ref[addr] = 0;
      mvs[addr * 2] = dx;
      mvs[addr * 2 + 1] = dy;
    }
    if (skipRun > 0) w.ue(skipRun);
    w.trailingBits();
    return [makeNalUnit(2, NAL_SLICE, w.finish())];
  }

  /**
   * Motion-vector predictor for a 16×16 partition (median of neighbours A,
   * B, C with C→D substitution, clause 8.4.1.3) plus the vector a P_Skip
   * macroblock would get at this position (clause 8.4.1.1).
   */
  private predictMv(mbx: number, mby: number): { x: number; y: number; skipX: number; skipY: number } {
    const W = this.mbWidth;
    const addr = mby * W + mbx;
    const mvs = this.mvs;
    const ref = this.refIdx;
    const availA = mbx > 0;
    const availB = mby > 0;
    let availC = mby > 0 && mbx < W - 1;
    let addrC = addr - W + 1;
    if (!availC) {
      availC = mby > 0 && mbx > 0; // substitute D
      addrC = addr - W - 1;
    }
    const addrA = addr - 1;
    const addrB = addr - W;
    // Unavailable or intra neighbours contribute refIdx −1 and a zero vector.
    const refA = availA ? (ref[addrA] ?? -1) : -1;
    let ax = refA === 0 ? (mvs[addrA * 2] ?? 0) : 0;
    let ay = refA === 0 ? (mvs[addrA * 2 + 1] ?? 0) : 0;
    let refB = availB ? (ref[addrB] ?? -1) : -1;
    let bx = refB === 0 ? (mvs[addrB * 2] ?? 0) : 0;
    let by = refB === 0 ? (mvs[addrB * 2 + 1] ?? 0) : 0;
    let refC = availC ? (ref[addrC] ?? -1) : -1;
    let cx = refC === 0 ? (mvs[addrC * 2] ?? 0) : 0;
    let cy = refC === 0 ? (mvs[addrC * 2 + 1] ?? 0) : 0;

    // P_Skip decision uses the original A/B before any substitution.
    const skipZero = !availA || !availB || (refA === 0 && ax === 0 && ay === 0) || (refB === 0 && bx === 0 && by === 0);

    if (!availB && !availC && availA) {
      refB = refA;
      bx = ax;
      by = ay;
      refC = refA;
      cx = ax;
      cy = ay;
    }
    let px: number;
    let py: number;
    const matches = (refA === 0 ? 1 : 0) + (refB === 0 ? 1 : 0) + (refC === 0 ? 1 : 0);
    if (matches === 1) {
      if (refA === 0) {
        px = ax;
        py = ay;
      } else if (refB === 0) {
        px = bx;
        py = by;
      } else {
        px = cx;
        py = cy;
      }
    } else {
      px = median3(ax, bx, cx);
      py = median3(ay, by, cy);
    }
    return skipZero ? { x: px, y: py, skipX: 0, skipY: 0 } : { x: px, y: py, skipX: px, skipY: py };
  }
}

function median3(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

/** Parses the few SPS fields needed by the MP4 avcC box. */
export function spsProfileLevel(sps: Uint8Array): { profile: number; compatibility: number; level: number } {
  if (sps.length < 4 || ((sps[0] ?? 0) & 0x1f) !== NAL_SPS) throw new Error('not an SPS NAL unit');
  return { profile: sps[1] ?? 0, compatibility: sps[2] ?? 0, level: sps[3] ?? 0 };
}
