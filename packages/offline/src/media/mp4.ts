/**
 * Minimal ISO BMFF (MP4) muxer for a single constant-frame-rate H.264 track.
 * Layout: ftyp, moov (before the media data, i.e. "faststart"), mdat.
 */
import { Buffer } from 'node:buffer';
import { frameRateFraction, spsProfileLevel } from './h264.js';

export interface Mp4Sample {
  /** One access unit as length-prefixed (4-byte) NAL units. */
  data: Uint8Array;
  /** True for IDR pictures (listed in stss). */
  keyframe: boolean;
}

export interface Mp4VideoTrack {
  width: number;
  height: number;
  fps: number;
  /** SPS NAL unit (header included, no length prefix). */
  sps: Uint8Array;
  /** PPS NAL unit (header included, no length prefix). */
  pps: Uint8Array;
  samples: readonly Mp4Sample[];
}

const MOVIE_TIMESCALE = 1000;
const UNITY_MATRIX = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];

/** Growable big-endian byte sink. */
class ByteSink {
  private parts: Buffer[] = [];
  length = 0;

  push(b: Uint8Array): this {
    const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    this.parts.push(buf);
    this.length += buf.length;
    return this;
  }
  u8(v: number): this {
    const b = Buffer.alloc(1);
    b.writeUInt8(v);
    return this.push(b);
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    return this.push(b);
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    return this.push(b);
  }
  zeros(n: number): this {
    return this.push(Buffer.alloc(n));
  }
  fourcc(s: string): this {
    if (s.length !== 4) throw new Error(`bad fourcc ${s}`);
    return this.push(Buffer.from(s, 'latin1'));
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

function box(type: string, ...payload: Uint8Array[]): Buffer {
  const size = 8 + payload.reduce((n, p) => n + p.length, 0);
  const s = new ByteSink().u32(size).fourcc(type);
  for (const p of payload) s.push(p);
  return s.toBuffer();
}

function fullBox(type: string, version: number, flags: number, ...payload: Uint8Array[]): Buffer {
  const head = new ByteSink()
    .u8(version)
    .u8((flags >>> 16) & 0xff)
    .u16(flags & 0xffff)
    .toBuffer();
  return box(type, head, ...payload);
}

function matrix(): Buffer {
  const s = new ByteSink();
  for (const v of UNITY_MATRIX) s.u32(v);
  return s.toBuffer();
}

function ftyp(): Buffer {
  const s = new ByteSink().fourcc('isom').u32(0x200);
  for (const brand of ['isom', 'iso2', 'avc1', 'mp41']) s.fourcc(brand);
  return box('ftyp', s.toBuffer());
}

function avcC(sps: Uint8Array, pps: Uint8Array): Buffer {
  const { profile, compatibility, level } = spsProfileLevel(sps);
  const s = new ByteSink()
    .u8(1) // configurationVersion
    .u8(profile)
    .u8(compatibility)
    .u8(level)
    .u8(0xfc | 3) // reserved '111111' + lengthSizeMinusOne = 3 (4-byte lengths)
    .u8(0xe0 | 1) // reserved '111' + numOfSequenceParameterSets = 1
    .u16(sps.length)
    .push(sps)
    .u8(1) // numOfPictureParameterSets
    .u16(pps.length)
    .push(pps);
  return box('avcC', s.toBuffer());
}

function avc1(track: Mp4VideoTrack): Buffer {
  const name = Buffer.alloc(32);
  const label = 'AVC Coding';
  name[0] = label.length;
  name.write(label, 1, 'latin1');
  const s = new ByteSink()
    .zeros(6) // reserved
    .u16(1) // data_reference_index
    .u16(0) // pre_defined
    .u16(0) // reserved
    .zeros(12) // pre_defined
    .u16(track.width)
    .u16(track.height)
    .u32(0x00480000) // horizresolution 72 dpi
    .u32(0x00480000) // vertresolution 72 dpi
    .u32(0) // reserved
    .u16(1) // frame_count
    .push(name) // compressorname
    .u16(0x0018) // depth
    .u16(0xffff) // pre_defined = -1
    .push(avcC(track.sps, track.pps));
  return box('avc1', s.toBuffer());
}

function stbl(track: Mp4VideoTrack, sampleDelta: number, chunkOffset: number): Buffer {
  const n = track.samples.length;
  const stsd = fullBox('stsd', 0, 0, new ByteSink().u32(1).toBuffer(), avc1(track));
  const stts = fullBox('stts', 0, 0, new ByteSink().u32(1).u32(n).u32(sampleDelta).toBuffer());
  const keys: number[] = [];
  track.samples.forEach((s, i) => {
    if (s.keyframe) keys.push(i + 1);
  });
  const stssBody = new ByteSink().u32(keys.length);
  for (const k of keys) stssBody.u32(k);
  const stss = fullBox('stss', 0, 0, stssBody.toBuffer());
  // A single chunk holding every sample.
  const stsc = fullBox('stsc', 0, 0, new ByteSink().u32(1).u32(1).u32(n).u32(1).toBuffer());
  const stszBody = new ByteSink().u32(0).u32(n);
  for (const s of track.samples) stszBody.u32(s.data.length);
  const stsz = fullBox('stsz', 0, 0, stszBody.toBuffer());
  const stco = fullBox('stco', 0, 0, new ByteSink().u32(1).u32(chunkOffset).toBuffer());
  return box('stbl', stsd, stts, stss, stsc, stsz, stco);
}

function moov(track: Mp4VideoTrack, chunkOffset: number): Buffer {
  const { num, den } = frameRateFraction(track.fps);
  // Media timescale: `num` ticks per second, each sample lasting `den` ticks.
  const mediaTimescale = num;
  const sampleDelta = den;
  const mediaDuration = track.samples.length * sampleDelta;
  const movieDuration = Math.round((mediaDuration * MOVIE_TIMESCALE) / mediaTimescale);

  const mvhd = fullBox(
    'mvhd',
    0,
    0,
    new ByteSink()
      .u32(0) // creation_time
      .u32(0) // modification_time
      .u32(MOVIE_TIMESCALE)
      .u32(movieDuration)
      .u32(0x00010000) // rate 1.0
      .u16(0x0100) // volume 1.0
      .zeros(10) // reserved
      .push(matrix())
      .zeros(24) // pre_defined
      .u32(2) // next_track_ID
      .toBuffer(),
  );
  const tkhd = fullBox(
    'tkhd',
    0,
    0x000003, // track_enabled | track_in_movie
    new ByteSink()
      .u32(0) // creation_time
      .u32(0) // modification_time
      .u32(1) // track_ID
      .u32(0) // reserved
      .u32(movieDuration)
      .zeros(8) // reserved
      .u16(0) // layer
      .u16(0) // alternate_group
      .u16(0) // volume (video)
      .u16(0) // reserved
      .push(matrix())
      .u32(track.width * 0x10000)
      .u32(track.height * 0x10000)
      .toBuffer(),
  );
  const mdhd = fullBox(
    'mdhd',
    0,
    0,
    new ByteSink()
      .u32(0)
      .u32(0)
      .u32(mediaTimescale)
      .u32(mediaDuration)
      .u16(0x55c4) // language 'und'
      .u16(0)
      .toBuffer(),
  );
  const hdlrName = Buffer.from('VideoHandler\0', 'latin1');
  const hdlr = fullBox('hdlr', 0, 0, new ByteSink().u32(0).fourcc('vide').zeros(12).push(hdlrName).toBuffer());
  const vmhd = fullBox('vmhd', 0, 1, new ByteSink().u16(0).u16(0).u16(0).u16(0).toBuffer());
  const dref = fullBox('dref', 0, 0, new ByteSink().u32(1).toBuffer(), fullBox('url ', 0, 1));
  const dinf = box('dinf', dref);
  const minf = box('minf', vmhd, dinf, stbl(track, sampleDelta, chunkOffset));
  const mdia = box('mdia', mdhd, hdlr, minf);
  const trak = box('trak', tkhd, mdia);
  return box('moov', mvhd, trak);
}

/** Muxes one H.264 track into a faststart MP4 file. */
export function muxMp4(track: Mp4VideoTrack): Buffer {
  if (track.samples.length === 0) throw new RangeError('muxMp4: at least one sample is required');
  if (!track.samples[0]?.keyframe) throw new RangeError('muxMp4: the first sample must be a keyframe');
  const head = ftyp();
  const mediaBytes = track.samples.reduce((n, s) => n + s.data.length, 0);
  if (mediaBytes + 8 > 0xffffffff) throw new RangeError('muxMp4: media data larger than 4 GiB');
  // stco is fixed-size, so the moov size does not depend on the offset value.
  const moovSize = moov(track, 0).length;
  const chunkOffset = head.length + moovSize + 8;
  const moovBox = moov(track, chunkOffset);
  const mdatHeader = new ByteSink()
    .u32(8 + mediaBytes)
    .fourcc('mdat')
    .toBuffer();
  return Buffer.concat([head, moovBox, mdatHeader, ...track.samples.map((s) => s.data)]);
}
