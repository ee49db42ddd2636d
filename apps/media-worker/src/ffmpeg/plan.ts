import { join } from 'node:path';
import { GENERATOR_NAME, type Caption, type RenderPlan } from '@gptmarket/contracts';
import { captionFontSize, lineLayout, wrapCaption } from './caption.js';
import type { MediaInfo } from './probe.js';

export const PROVENANCE = {
  generator: GENERATOR_NAME,
  comment: `AI-generated media, made by ${GENERATOR_NAME}`,
} as const;

export interface CompiledRender {
  /** ffmpeg arguments (no shell ever sees them). */
  args: string[];
  /** Caption lines, each written to its own file and drawn with expansion off. */
  textFiles: { path: string; content: string }[];
  /** Duration the output will have, for progress. */
  expectedSeconds: number;
  outputPath: string;
  /** Poster frame (JPEG) and animated preview (GIF), written by the same ffmpeg run when asked for. */
  posterPath: string | null;
  previewPath: string | null;
  width: number;
  height: number;
  hasAudio: boolean;
}

export interface CompilePaths {
  /** Per-render temp directory: caption files and outputs go here. */
  dir: string;
  /** The downloaded input (a video, or a still image when `plan.image` is set). */
  input: string;
  /** The downloaded extra audio track, when `plan.audio` is set. */
  audioInput?: string | undefined;
  /** Font file of a caption font (throws when it is not installed). */
  fontFile: (font: Caption['font']) => string;
  /** Font file for one caption line, given the chosen font's file (fallback for glyphs it lacks). */
  lineFont?: ((line: string, primary: string) => string) | undefined;
  /** Probe of the extra audio track, to know whether it has audio at all. */
  audioInfo?: MediaInfo | undefined;
}

/** Paths we put into the filter graph are our own temp paths; refuse anything else outright. */
const SAFE_PATH = /^[A-Za-z0-9_./-]+$/;
function graphPath(path: string): string {
  if (!SAFE_PATH.test(path)) throw new Error(`unsafe path for a filter graph: ${path}`);
  return path;
}

/** A number as FFmpeg reads it: plain decimal, no exponent. */
const num = (n: number): string => {
  if (!Number.isFinite(n)) throw new Error(`not a finite number: ${n}`);
  return String(+n.toFixed(6));
};

/** atempo accepts 0.5–100 per instance: chain instances so any speed keeps the audio (the Python system dropped it). */
export function atempoChain(speed: number): string[] {
  const parts: number[] = [];
  let s = speed;
  while (s < 0.5) {
    parts.push(0.5);
    s /= 0.5;
  }
  while (s > 2) {
    parts.push(2);
    s /= 2;
  }
  parts.push(s);
  return parts.map((p) => `atempo=${num(p)}`);
}

/** Inputs are our own local files: FFmpeg may not open anything else while reading them. */
const LOCAL_ONLY = ['-protocol_whitelist', 'file'];

const even = (n: number) => Math.max(2, Math.floor(n / 2) * 2);

function captionFilters(
  caption: Caption,
  height: number,
  dir: string,
  font: string,
  lineFont: (line: string, primary: string) => string,
): { filters: string[]; files: CompiledRender['textFiles'] } {
  const lines = wrapCaption(caption.text, caption.max_chars_per_line);
  const size = captionFontSize(caption, height);
  const files: CompiledRender['textFiles'] = [];
  const filters: string[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const file = join(dir, `caption-${i}.txt`);
    files.push({ path: file, content: line });
    const { x, y } = lineLayout(caption.position, i, lines.length, size, caption.line_spacing);
    const opts = [
      `fontfile=${graphPath(lineFont(line, font))}`,
      `textfile=${graphPath(file)}`,
      // The file's bytes are the text: no %{...} expansion, nothing evaluated.
      'expansion=none',
      `fontsize=${size}`,
      `fontcolor=${caption.font_color}`,
      `x=${x}`,
      `y=${y}`,
    ];
    if (caption.border_width > 0) opts.push(`borderw=${caption.border_width}`, `bordercolor=${caption.border_color}`);
    if (caption.background_color) opts.push('box=1', `boxcolor=${caption.background_color}`, `boxborderw=${caption.padding}`);
    if (caption.end_time !== null) opts.push(`enable='between(t,${num(caption.start_time)},${num(caption.end_time)})'`);
    else if (caption.start_time > 0) opts.push(`enable='gte(t,${num(caption.start_time)})'`);
    filters.push(`drawtext=${opts.join(':')}`);
  });
  return { filters, files };
}

/** Scales a source of any size onto a W×H frame: letterboxed (contain) or cropped (cover). */
function fitFilters(w: number, h: number, fit: 'contain' | 'cover'): string[] {
  return fit === 'cover'
    ? [`scale=${w}:${h}:force_original_aspect_ratio=increase`, `crop=${w}:${h}`, 'setsar=1']
    : [`scale=${w}:${h}:force_original_aspect_ratio=decrease`, `pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:color=black`, 'setsar=1'];
}

/** zoompan expressions for a still image's camera motion over `frames` frames (numbers only). */
function motionFilter(motion: NonNullable<RenderPlan['image']>['motion'], frames: number, w: number, h: number, fps: number): string {
  const last = Math.max(1, frames - 1);
  const p = `(on/${last})`;
  const centre = { x: 'iw/2-(iw/zoom/2)', y: 'ih/2-(ih/zoom/2)' };
  const zoom = motion === 'zoom_in' ? `1+0.25*${p}` : motion === 'zoom_out' ? `1.25-0.25*${p}` : '1.2';
  const x = motion === 'pan_left' ? `(iw-iw/zoom)*(1-${p})` : motion === 'pan_right' ? `(iw-iw/zoom)*${p}` : centre.x;
  return `zoompan=z=${zoom}:x=${x}:y=${centre.y}:d=${frames}:s=${w}x${h}:fps=${fps}`;
}

/**
 * Compiles a render plan into one FFmpeg invocation: speed change or image motion, fit to the target size,
 * captions, and the audio (source kept at any speed, an extra track mixed, ducked or replacing it) in one filter
 * graph; one H.264 encode (yuv420p, faststart, AAC when there is audio), provenance metadata, no metadata carried
 * over from the source; the poster frame and animated preview come out of the same run.
 */
export function compileRender(plan: RenderPlan, info: MediaInfo, paths: CompilePaths): CompiledRender {
  if (!info.video) throw new Error('the input has no video stream');
  const outputPath = join(paths.dir, 'output.mp4');
  const out = plan.output;
  const image = plan.image;
  const speed = image ? 1 : plan.speed;
  const srcFps = info.video.fps > 0 && info.video.fps <= 120 ? +info.video.fps.toFixed(3) : 30;
  const fps = out.fps ?? (image ? 30 : srcFps);

  // Output frame size: the target, else the source (even, and at most 1920 on the long side for images).
  let width: number;
  let height: number;
  if (out.width !== null && out.height !== null) {
    width = out.width;
    height = out.height;
  } else {
    const scale = image ? Math.min(1, 1920 / Math.max(info.video.width, info.video.height)) : 1;
    width = even(info.video.width * scale);
    height = even(info.video.height * scale);
  }
  const resized = width !== info.video.width || height !== info.video.height || out.width !== null;

  const expectedSeconds = image ? image.duration_seconds : videoDuration(info) / speed;
  const inputArgs: string[] = [];
  const video: string[] = [];
  if (image) {
    if (image.motion === 'none') {
      inputArgs.push('-loop', '1', '-framerate', num(fps), '-t', num(image.duration_seconds), ...LOCAL_ONLY, '-i', paths.input);
      video.push(...fitFilters(width, height, out.fit));
    } else {
      // One decoded frame, scaled to cover twice the target (smooth sub-pixel motion), then zoompan makes the clip.
      const frames = Math.max(1, Math.round(image.duration_seconds * fps));
      inputArgs.push(...LOCAL_ONLY, '-i', paths.input);
      video.push(...fitFilters(width * 2, height * 2, 'cover'), motionFilter(image.motion, frames, width, height, fps));
    }
  } else {
    inputArgs.push(...LOCAL_ONLY, '-i', paths.input);
    if (speed !== 1) video.push(`setpts=PTS/${num(speed)}`);
    if (resized) video.push(...fitFilters(width, height, out.fit));
  }
  // Constant frame rate output: slowed clips get their frames repeated rather than stretched.
  video.push(`fps=${num(fps)}`);
  const caption = plan.caption
    ? captionFilters(plan.caption, height, paths.dir, paths.fontFile(plan.caption.font), paths.lineFont ?? ((_l, f) => f))
    : { filters: [], files: [] };
  video.push(...caption.filters, 'format=yuv420p');

  const thumbs = out.thumbnails;
  const graph: string[] = [];
  if (thumbs) {
    graph.push(`[0:v]${video.join(',')},split=3[v][pv][gv]`);
    const posterAt = Math.min(1, expectedSeconds / 3);
    // The first frame at `posterAt`, then the branch ends (`end_frame=1`): no later frame is converted for the JPEG
    // encoder only to be thrown away by `-frames:v 1`.
    graph.push(`[pv]trim=start=${num(posterAt)},trim=end_frame=1,setpts=PTS-STARTPTS[poster]`);
    const pw = Math.min(320, width);
    graph.push(
      `[gv]trim=duration=${num(Math.min(3, expectedSeconds))},setpts=PTS-STARTPTS,fps=10,scale=${pw}:-2:flags=lanczos,split[g1][g2]`,
      '[g1]palettegen=stats_mode=diff:max_colors=128[pal]',
      '[g2][pal]paletteuse=dither=bayer:bayer_scale=4[preview]',
    );
  } else {
    graph.push(`[0:v]${video.join(',')}[v]`);
  }

  // Audio: the source's (tempo-adjusted at any speed) and/or an extra track.
  const AFMT = 'aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo';
  const track = plan.audio && paths.audioInput && (paths.audioInfo?.audio ?? null) !== null ? plan.audio : null;
  if (plan.audio && paths.audioInput && !track) throw new Error('the audio track has no audio stream');
  // replace_audio is honoured: a replacing track means the source audio is not used at all.
  const keepSource = !image && plan.preserve_audio && info.audio !== null && track?.mode !== 'replace';
  let audioLabel: string | null = null;
  if (keepSource) {
    // Padded/cut to the video's length so audio and video end together.
    graph.push(
      `[0:a]${[...(speed !== 1 ? atempoChain(speed) : []), AFMT, 'apad', `atrim=duration=${num(expectedSeconds)}`, 'asetpts=N/SR/TB'].join(',')}[src]`,
    );
    audioLabel = '[src]';
  }
  if (track) {
    inputArgs.push(...(track.offset_seconds > 0 ? ['-ss', num(track.offset_seconds)] : []), ...LOCAL_ONLY, '-i', paths.audioInput!);
    // Exactly the output's length: padded with silence when short, cut when long.
    graph.push(`[1:a]volume=${num(track.volume)},${AFMT},apad,atrim=duration=${num(expectedSeconds)},asetpts=N/SR/TB[trk]`);
    if (track.mode === 'replace' || !keepSource) {
      audioLabel = '[trk]';
    } else if (track.duck) {
      graph.push(
        '[src]asplit=2[sa][sb]',
        '[trk][sa]sidechaincompress=threshold=0.03:ratio=12:attack=20:release=400[duck]',
        '[sb][duck]amix=inputs=2:duration=longest:normalize=0[mix]',
      );
      audioLabel = '[mix]';
    } else {
      graph.push('[src][trk]amix=inputs=2:duration=longest:normalize=0[mix]');
      audioLabel = '[mix]';
    }
  }

  const noMetadata = ['-map_metadata', '-1', '-map_chapters', '-1'];
  const posterPath = thumbs ? join(paths.dir, 'poster.jpg') : null;
  const previewPath = thumbs ? join(paths.dir, 'preview.gif') : null;
  const args = [
    // Progress every 0.1 s (not the default 0.5 s): heartbeats and progress signals follow the encode closely.
    '-hide_banner',
    '-nostdin',
    '-y',
    '-loglevel',
    'error',
    '-progress',
    'pipe:1',
    '-stats_period',
    '0.1',
    '-nostats',
    ...inputArgs,
    '-filter_complex',
    graph.join(';'),
    '-map',
    '[v]',
    ...(audioLabel ? ['-map', audioLabel, '-c:a', 'aac', '-b:a', `${out.audio_bitrate_kbps}k`] : ['-an']),
    '-c:v',
    'libx264',
    '-preset',
    out.preset,
    '-crf',
    String(out.crf),
    '-pix_fmt',
    'yuv420p',
    ...(image || audioLabel ? ['-t', num(expectedSeconds)] : []),
    ...noMetadata,
    '-metadata',
    `comment=${PROVENANCE.comment}`,
    '-metadata',
    'ai_generated=true',
    '-metadata',
    `generator=${PROVENANCE.generator}`,
    '-movflags',
    '+faststart+use_metadata_tags',
    outputPath,
    ...(thumbs
      ? [
          '-map',
          '[poster]',
          '-frames:v',
          '1',
          '-q:v',
          '3',
          ...noMetadata,
          posterPath!,
          '-map',
          '[preview]',
          '-loop',
          '0',
          ...noMetadata,
          previewPath!,
        ]
      : []),
  ];
  return {
    args,
    textFiles: caption.files,
    expectedSeconds,
    outputPath,
    posterPath,
    previewPath,
    width,
    height,
    hasAudio: audioLabel !== null,
  };
}

/** Video duration of a probe (the container's, which is what players show). */
function videoDuration(info: MediaInfo): number {
  return info.durationSeconds;
}
