export {
  BACKGROUND_COLORS,
  HAIR_COLORS,
  MAX_IMAGE_SIDE,
  SKIN_TONES,
  assertImage,
  blendPixel,
  centeredCoverView,
  cloneImage,
  coverScale,
  createImage,
  fillCapsule,
  fillCircle,
  fillEllipse,
  fillImage,
  fillRect,
  fillVerticalGradient,
  getPixel,
  hslToRgb,
  lookupColor,
  mouthShapeForEmotion,
  renderPortrait,
  renderView,
  renderViewInto,
  resizeCover,
  resolveBackground,
  resolveHairColor,
  resolveSkinTone,
  seedBytes,
  seedUnit,
} from './image.js';
export type { Color, EllipseClip, ImageView, MouthShape, PortraitOptions, Rgb, Rgba, RgbaImage } from './image.js';

export { PNG_SIGNATURE, crc32, decodePngSize, encodePng } from './png.js';
export type { PngOptions } from './png.js';

export {
  BitWriter,
  H264BaselineEncoder,
  MAX_MV_QPEL,
  chooseLevel,
  escapeRbsp,
  frameRateFraction,
  makeNalUnit,
  rgbaToYuv420,
  rgbaToYuv420Region,
  toAnnexB,
  toAvccSample,
} from './h264.js';
export type { H264EncoderOptions, LevelRequirements, PFramePlan, YuvFrame } from './h264.js';

export { muxMp4 } from './mp4.js';
export type { Mp4Sample, Mp4VideoTrack } from './mp4.js';

export { CLIP_LIMITS, clipFrameCount, clipViewAt, defaultKeyframeInterval, encodeClip, renderClip } from './clip.js';
export type { ClipInfo, ClipMotion, ClipOptions } from './clip.js';

export { encodeWav, synthesizeTone } from './wav.js';
export type { ToneOptions } from './wav.js';
