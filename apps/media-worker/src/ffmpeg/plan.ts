import { join } from 'node:path';
import type { Caption, RenderPlan } from '@gptmarket/contracts';
import { captionFontSize, lineLayout, wrapCaption } from './caption.js';
import type { MediaInfo } from './probe.js';

export const PROVENANCE = {
  generator: 'GPTMarket Generator',
  comment: 'AI-generated media, made by GPTMarket Generator',
} as const;

export interface CompiledRender {
  /** ffmpeg arguments (no shell ever sees them). */
  args: string[];
  /** Caption lines, each written to its own file and drawn with expansion off. */
  textFiles: { path: string; content: string }[];
  /** Duration the output will have, for progress. */
  expectedSeconds: number;
  outputPath: string;
}

/** Paths we put into the filter graph are our own temp paths; refuse anything else outright. */
const SAFE_PATH = /^[A-Za-z0-9_./-]+$/;
function graphPath(path: string): string {
  if (!SAFE_PATH.test(path)) throw new Error(`unsafe path for a filter graph: ${path}`);
  return path;
}

/** atempo accepts 0.5–100 per instance: chain instances so any speed keeps the audio (spec §16: it was dropped). */
export function atempoChain(speed: number): string[] {
  const parts: number[] = [];
  let s = speed;
  while (s < 0.5) {
    parts.push(0.5);
    s /= 0.5;
  }
  parts.push(s);
  return parts.map((p) => `atempo=${+p.toFixed(6)}`);
}

function captionFilters(caption: Caption, video: NonNullable<MediaInfo['video']>, dir: string, font: string): { filters: string[]; files: CompiledRender['textFiles'] } {
  const lines = wrapCaption(caption.text, caption.max_chars_per_line);
  const size = captionFontSize(caption, video.height);
  const files: CompiledRender['textFiles'] = [];
  const filters: string[] = [];
  lines.forEach((line, i) => {
    if (line === '') return;
    const file = join(dir, `caption-${i}.txt`);
    files.push({ path: file, content: line });
    const { x, y } = lineLayout(caption.position, i, lines.length, size, caption.line_spacing);
    const opts = [
      `fontfile=${graphPath(font)}`,
      `textfile=${graphPath(file)}`,
      'expansion=none',
      `fontsize=${size}`,
      `fontcolor=${caption.font_color}`,
      `x=${x}`,
      `y=${y}`,
    ];
    if (caption.border_width > 0) opts.push(`borderw=${caption.border_width}`, `bordercolor=${caption.border_color}`);
    if (caption.background_color) opts.push('box=1', `boxcolor=${caption.background_color}`, `boxborderw=${caption.padding}`);
    if (caption.end_time !== null) opts.push(`enable='between(t,${caption.start_time},${caption.end_time})'`);
    else if (caption.start_time > 0) opts.push(`enable='gte(t,${caption.start_time})'`);
    filters.push(`drawtext=${opts.join(':')}`);
  });
  return { filters, files };
}

/**
 * Compiles a render plan into one FFmpeg invocation: speed change, captions and audio in one filter graph,
 * one H.264 encode (yuv420p, faststart), provenance metadata, and no metadata carried over from the source.
 */
export function compileRender(plan: RenderPlan, info: MediaInfo, paths: { dir: string; input: string; fontFile: (font: Caption['font']) => string }): CompiledRender {
  if (!info.video) throw new Error('the input has no video stream');
  const outputPath = join(paths.dir, 'output.mp4');
  const fps = plan.output.fps ?? (info.video.fps > 0 && info.video.fps <= 120 ? +info.video.fps.toFixed(3) : 30);
  const video: string[] = [];
  if (plan.speed !== 1) video.push(`setpts=PTS/${plan.speed}`);
  // Constant frame rate output: slowed clips get their frames repeated rather than stretched.
  video.push(`fps=${fps}`);
  const caption = plan.caption ? captionFilters(plan.caption, info.video, paths.dir, paths.fontFile(plan.caption.font)) : { filters: [], files: [] };
  video.push(...caption.filters, 'format=yuv420p');
  const graph = [`[0:v]${video.join(',')}[v]`];
  const keepAudio = plan.preserve_audio && info.audio !== null;
  if (keepAudio) graph.push(`[0:a]${plan.speed !== 1 ? atempoChain(plan.speed).join(',') : 'anull'}[a]`);

  const args = [
    '-hide_banner', '-nostdin', '-y', '-loglevel', 'error',
    '-i', paths.input,
    '-filter_complex', graph.join(';'),
    '-map', '[v]',
    ...(keepAudio ? ['-map', '[a]', '-c:a', 'aac', '-b:a', '128k'] : ['-an']),
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(plan.output.crf), '-pix_fmt', 'yuv420p',
    '-map_metadata', '-1', '-map_chapters', '-1',
    '-metadata', `comment=${PROVENANCE.comment}`,
    '-metadata', `ai_generated=true`,
    '-metadata', `generator=${PROVENANCE.generator}`,
    '-movflags', '+faststart+use_metadata_tags',
    '-progress', 'pipe:1', '-nostats',
    outputPath,
  ];
  return { args, textFiles: caption.files, expectedSeconds: info.durationSeconds / plan.speed, outputPath };
}
