import { z } from 'zod';

/**
 * A render plan: one typed description of one output, compiled by the media worker into a single FFmpeg
 * filter graph and a single encode. Every value here is data; nothing in it is ever spliced into a shell
 * or a filter expression as text (captions travel through files, colours are validated).
 */

/** Caption fonts by name; the media worker maps each to a font file by path (real bold faces). */
export const CAPTION_FONTS = [
  'IMPACT',
  'ARIAL_BLACK',
  'HELVETICA_BOLD',
  'ARIAL',
  'HELVETICA',
  'ROBOTO',
  'GEORGIA',
  'TIMES',
  'COURIER',
] as const;
export const CaptionFont = z.enum(CAPTION_FONTS);
export type CaptionFont = z.infer<typeof CaptionFont>;

export const CAPTION_POSITIONS = [
  'top_left',
  'top',
  'top_center',
  'top_right',
  'center_left',
  'center',
  'center_right',
  'bottom_left',
  'bottom',
  'bottom_center',
  'bottom_right',
] as const;
export const CaptionPosition = z.enum(CAPTION_POSITIONS);
export type CaptionPosition = z.infer<typeof CaptionPosition>;

/** A colour FFmpeg understands, restricted to safe forms: a name or #RRGGBB[AA], optionally `@alpha`. */
export const Color = z
  .string()
  .max(32)
  .regex(
    /^(?:[A-Za-z]{3,24}|#[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?)(?:@(?:0(?:\.\d{1,3})?|1(?:\.0{1,3})?))?$/,
    'must be a colour name or #RRGGBB[AA], optionally followed by @alpha (0 to 1)',
  );

export const Caption = z
  .object({
    text: z.string().min(1).max(1000),
    position: CaptionPosition.default('center'),
    font: CaptionFont.default('IMPACT'),
    font_color: Color.default('white'),
    /** Font size is the video height divided by this factor (the Python system's rule), clamped to 24–200 px. */
    font_scale_factor: z.number().min(10).max(60).default(30),
    /** Explicit font size in pixels; overrides font_scale_factor when set. */
    font_size: z.number().int().min(8).max(200).nullable().default(null),
    border_width: z.number().int().min(0).max(20).default(2),
    border_color: Color.default('black'),
    background_color: Color.nullable().default(null),
    padding: z.number().int().min(0).max(100).default(15),
    line_spacing: z.number().int().min(0).max(200).default(0),
    max_chars_per_line: z.number().int().min(8).max(80).default(28),
    start_time: z.number().min(0).max(3600).default(0),
    end_time: z.number().min(0).max(3600).nullable().default(null),
  })
  .refine((c) => c.end_time === null || c.end_time > c.start_time, {
    message: 'end_time must be after start_time',
    path: ['end_time'],
  });
export type Caption = z.infer<typeof Caption>;
export type CaptionInput = z.input<typeof Caption>;

/** An extra audio track: mixed under the source audio (optionally ducked by it) or replacing it. */
export const AudioTrack = z.object({
  /** Audio (or any media with an audio stream): a URL in our storage or on an allowed host. */
  url: z.url({ protocol: /^https?$/ }).max(4096),
  /** `replace`: the output carries this track only. `mix`: this track plays under the (kept) source audio. */
  mode: z.enum(['mix', 'replace']).default('replace'),
  /** Gain of this track, 0–2 (1 = unchanged). */
  volume: z.number().min(0).max(2).default(1),
  /** In `mix` mode, lower this track while the source audio is loud (sidechain compression). */
  duck: z.boolean().default(false),
  /** Start the track this many seconds into the track file. */
  offset_seconds: z.number().min(0).max(3600).default(0),
});
export type AudioTrack = z.infer<typeof AudioTrack>;

/** Turns a still image input into a clip. */
export const ImageClip = z.object({
  duration_seconds: z.number().gt(0).max(60).default(5),
  motion: z.enum(['none', 'zoom_in', 'zoom_out', 'pan_left', 'pan_right']).default('none'),
});
export type ImageClip = z.infer<typeof ImageClip>;

export const RenderPlan = z.object({
  /** Source clip: a URL in our storage or on an allowed host. */
  input_url: z.url({ protocol: /^https?$/ }).max(4096),
  /** Playback speed: 0.7 is Ruby's slow motion, 1 leaves timing alone. */
  speed: z.number().gt(0).max(4).default(1),
  /** Keep the source audio (tempo-adjusted at any speed); otherwise the output is silent. */
  preserve_audio: z.boolean().default(false),
  caption: Caption.nullable().default(null),
  /** An extra audio track (background music, voice-over). */
  audio: AudioTrack.nullable().default(null),
  /** Set when `input_url` is a still image: the clip's duration and camera motion. */
  image: ImageClip.nullable().default(null),
  /**
   * Encode percentages at which the media worker signals the calling workflow (`RENDER_PROGRESS_SIGNAL`), so a
   * workflow can report the steps one render covers (Ruby's slow motion, then its caption) as the render runs.
   */
  signal_progress_at: z.array(z.number().int().min(1).max(99)).max(4).default([]),
  output: z
    .object({
      /** Storage folder for the result, e.g. `ruby/videos`. */
      folder: z
        .string()
        .regex(/^[a-z0-9_-]+(?:\/[a-z0-9_-]+)*$/)
        .max(128),
      /** Frames per second of the output; the source rate when null. */
      fps: z.number().int().min(1).max(60).nullable().default(null),
      crf: z.number().int().min(0).max(51).default(20),
      /** Target frame size (even numbers); the source size when null. Both or neither. */
      width: z.number().int().min(16).max(3840).multipleOf(2).nullable().default(null),
      height: z.number().int().min(16).max(3840).multipleOf(2).nullable().default(null),
      /** How the source fits the target size: letterboxed (`contain`) or cropped (`cover`). */
      fit: z.enum(['contain', 'cover']).default('contain'),
      /** libx264 speed/size trade-off. */
      preset: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow']).default('veryfast'),
      audio_bitrate_kbps: z.number().int().min(32).max(320).default(128),
      /** Also produce a poster frame (JPEG) and an animated preview (GIF). */
      thumbnails: z.boolean().default(true),
    })
    .refine((o) => (o.width === null) === (o.height === null), { message: 'width and height go together', path: ['width'] }),
});
export type RenderPlan = z.infer<typeof RenderPlan>;
export type RenderPlanInput = z.input<typeof RenderPlan>;

/** The signal a render sends its workflow as the encode passes each of the plan's `signal_progress_at`. */
export const RENDER_PROGRESS_SIGNAL = 'render_progress';
export interface RenderProgress {
  /** Percentage of the encode done. */
  pct: number;
}

export const StoredMedia = z.object({
  url: z.string(),
  key: z.string(),
  content_type: z.string(),
  size_bytes: z.number().int().nonnegative(),
});
export type StoredMedia = z.infer<typeof StoredMedia>;

export const RenderResult = StoredMedia.extend({
  duration_seconds: z.number(),
  width: z.number().int(),
  height: z.number().int(),
  has_audio: z.boolean().optional(),
  /** A JPEG frame from the output. */
  poster_url: z.string().optional(),
  /** A short animated GIF of the output. */
  preview_url: z.string().optional(),
});
export type RenderResult = z.infer<typeof RenderResult>;

export const ProbeRequest = z.object({ url: z.url({ protocol: /^https?$/ }).max(4096) });
export type ProbeRequest = z.infer<typeof ProbeRequest>;

/** ffprobe's view of a media file. */
export const MediaProbe = z.object({
  duration_seconds: z.number(),
  size_bytes: z.number().int().nonnegative(),
  format: z.string(),
  video: z
    .object({ codec: z.string(), width: z.number().int(), height: z.number().int(), fps: z.number(), pixel_format: z.string() })
    .nullable(),
  audio: z.object({ codec: z.string(), sample_rate: z.number().int(), channels: z.number().int() }).nullable(),
  has_audio: z.boolean(),
});
export type MediaProbe = z.infer<typeof MediaProbe>;
