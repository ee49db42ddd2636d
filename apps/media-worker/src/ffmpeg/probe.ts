import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface MediaInfo {
  durationSeconds: number;
  sizeBytes: number;
  formatName: string;
  video: { codec: string; width: number; height: number; fps: number; pixelFormat: string; frames: number | null } | null;
  audio: { codec: string; sampleRate: number; channels: number } | null;
  tags: Record<string, string>;
}

export class UndecodableMediaError extends Error {
  /**
   * `reason` is shown to whoever sent the input; `detail` (ffprobe's own words, which name our temp files) is
   * for the worker's log only.
   */
  constructor(
    reason: string | null,
    readonly detail: string | null = null,
  ) {
    super(`the input is not a media file FFmpeg can decode${reason ? ` (${reason})` : ''}`);
    this.name = 'UndecodableMediaError';
  }
}

const rate = (r: string | undefined): number => {
  const [n, d] = (r ?? '0/1').split('/').map(Number);
  return d ? n! / d : 0;
};

/** ffprobe of a local file: duration, size, codecs, dimensions, frame rate, audio presence, container tags. */
export async function probeMedia(path: string, signal?: AbortSignal): Promise<MediaInfo> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(
      'ffprobe',
      // Local files only: a playlist-like input (HLS, ...) must not make ffprobe fetch anything.
      ['-v', 'error', '-protocol_whitelist', 'file', '-print_format', 'json', '-show_format', '-show_streams', path],
      { signal, maxBuffer: 8 * 1024 * 1024, timeout: 60_000 },
    ));
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    const stderr = String((err as { stderr?: string }).stderr ?? '')
      .trim()
      .split('\n')
      .slice(-3)
      .join(' ');
    throw new UndecodableMediaError(null, stderr || 'ffprobe failed');
  }
  const data = JSON.parse(stdout) as {
    format?: { duration?: string; size?: string; format_name?: string; tags?: Record<string, string> };
    streams?: Array<Record<string, string | number | undefined>>;
  };
  const v = data.streams?.find(
    (s) => s.codec_type === 'video' && !Number((s as { disposition?: { attached_pic?: number } }).disposition?.attached_pic),
  );
  const a = data.streams?.find((s) => s.codec_type === 'audio');
  if (!v && !a) throw new UndecodableMediaError('no audio or video stream');
  return {
    durationSeconds: Number(data.format?.duration ?? v?.duration ?? 0),
    sizeBytes: Number(data.format?.size ?? 0),
    formatName: data.format?.format_name ?? '',
    video: v
      ? {
          codec: String(v.codec_name),
          width: Number(v.width),
          height: Number(v.height),
          fps: rate(String(v.avg_frame_rate)) || rate(String(v.r_frame_rate)),
          pixelFormat: String(v.pix_fmt),
          frames: v.nb_frames !== undefined ? Number(v.nb_frames) : null,
        }
      : null,
    audio: a ? { codec: String(a.codec_name), sampleRate: Number(a.sample_rate), channels: Number(a.channels) } : null,
    tags: data.format?.tags ?? {},
  };
}

/**
 * Containers a render input may be in. Anything else is refused before FFmpeg opens it for real: playlist and
 * indirection formats (HLS, concat, ...) could make FFmpeg read other files or URLs.
 */
const INPUT_FORMATS = new Set([
  'mov',
  'mp4',
  'm4a',
  '3gp',
  '3g2',
  'mj2',
  'matroska',
  'webm',
  'avi',
  'mpegts',
  'flv',
  'nut',
  'gif',
  'wav',
  'mp3',
  'ogg',
  'flac',
  'aac',
  'image2',
  'png_pipe',
  'jpeg_pipe',
  'webp_pipe',
  'bmp_pipe',
  'tiff_pipe',
]);

export function assertInputFormat(info: MediaInfo): void {
  const names = info.formatName.split(',');
  if (!names.some((n) => INPUT_FORMATS.has(n))) throw new UndecodableMediaError(`unsupported container ${info.formatName || 'unknown'}`);
}
