/** Words and numbers the pages show: ages, money, statuses, failures in plain words, media in an output, curl. */
import { fieldLabel, type Generation, type WorkflowStatus } from '@gptmarket/sdk';

export const STATUSES: readonly WorkflowStatus[] = ['pending', 'running', 'completed', 'failed', 'cancelled'];

export const STATUS_LABEL: Record<WorkflowStatus, string> = {
  pending: 'Pending',
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** `12 s ago`, `3 min ago`, `5 h ago`, `2 d ago`. */
export function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** USD with cents, or more digits below a cent so small amounts are not shown as zero. */
export function money(usd: number): string {
  if (usd === 0) return '$0.00';
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/** What it cost once it ended, else the estimate (docs/api.md "Cost"). */
export function costText(cost: Generation['cost']): string {
  if (!cost) return 'not recorded';
  return cost.actual !== null ? money(cost.actual) : `about ${money(cost.estimated)} (estimate)`;
}

/** The error codes of a failed generation (docs/api.md "The generation object"), in words. */
const FAILURE_WORDS: Record<string, string> = {
  invalid_input: 'The request could not be used as it was given.',
  provider_error: 'An AI provider could not make it.',
  media_error: 'Processing the video or audio failed.',
  storage_error: 'Saving the files failed.',
  auth_failed: 'The gateway and the workers do not share the same workflow secret.',
  timed_out: 'It took too long and was stopped.',
  terminated: 'An operator stopped it.',
  internal: 'Something went wrong on our side.',
};

export const failureWords = (code: string): string => FAILURE_WORDS[code] ?? 'It failed.';

export type MediaKind = 'video' | 'image' | 'audio' | 'file';

export interface MediaItem {
  /** Where it is in the output, e.g. `final_video_url` or `images.0.url`. */
  path: string;
  label: string;
  url: string;
  kind: MediaKind;
  /** For a video: the output's poster image of it (`<name>_poster_url`). */
  poster?: string;
}

const KIND_BY_EXT: Record<string, MediaKind> = {
  mp4: 'video',
  webm: 'video',
  mov: 'video',
  png: 'image',
  jpg: 'image',
  jpeg: 'image',
  webp: 'image',
  gif: 'image',
  mp3: 'audio',
  wav: 'audio',
  ogg: 'audio',
  m4a: 'audio',
};

function kindOf(url: string): MediaKind {
  try {
    const path = new URL(url).pathname;
    return KIND_BY_EXT[path.slice(path.lastIndexOf('.') + 1).toLowerCase()] ?? 'file';
  } catch {
    return 'file';
  }
}

const isHttpUrl = (v: unknown): v is string => typeof v === 'string' && /^https?:\/\//i.test(v);

/** Every http(s) URL in an output, in order, with what it is (by its extension) and a label from its field name. */
export function mediaOf(output: Record<string, unknown> | null, max = 40): MediaItem[] {
  const items: MediaItem[] = [];
  const walk = (value: unknown, path: string[], siblings: Record<string, unknown> | null) => {
    if (items.length >= max) return;
    if (isHttpUrl(value)) {
      const name = path[path.length - 1] ?? '';
      const item: MediaItem = {
        path: path.join('.'),
        label: path.map((p) => (/^\d+$/.test(p) ? `#${Number(p) + 1}` : fieldLabel(p.replace(/_url$/, '')))).join(' '),
        url: value,
        kind: kindOf(value),
      };
      const poster = siblings?.[name.replace(/_url$/, '_poster_url')];
      if (item.kind === 'video' && isHttpUrl(poster)) item.poster = poster;
      items.push(item);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, [...path, String(i)], null));
    } else if (typeof value === 'object' && value !== null) {
      const obj = value as Record<string, unknown>;
      for (const [k, v] of Object.entries(obj)) walk(v, [...path, k], obj);
    }
  };
  walk(output, [], null);
  return items;
}

/** A shell word: single quotes, each quote inside written as '"'"'. */
export const shellQuote = (text: string): string => `'${text.replaceAll("'", `'"'"'`)}'`;

export type AuthKind = 'key' | 'basic' | 'open';

/**
 * The `POST /v1/generations` that starts this generation again: its type, its input (defaults filled in) and
 * metadata. The credential is a shell variable, never the one the dashboard holds.
 */
export function curlFor(generation: Pick<Generation, 'type' | 'input' | 'metadata'>, origin: string, auth: AuthKind): string {
  const body: Record<string, unknown> = { type: generation.type, input: generation.input };
  if (Object.keys(generation.metadata).length > 0) body.metadata = generation.metadata;
  const lines = [`curl -X POST ${shellQuote(`${origin}/v1/generations`)}`];
  if (auth === 'key') lines.push('-H "Authorization: Bearer $GPTMARKET_API_KEY"');
  if (auth === 'basic') lines.push('-u "$GPTMARKET_USER:$GPTMARKET_PASSWORD"');
  lines.push(`-H 'content-type: application/json'`, `-d ${shellQuote(JSON.stringify(body))}`);
  return lines.join(' \\\n  ');
}
