/**
 * The GPTMarket.io API's Pinterest scraper: `POST {GPTMARKET_API_URL}/v1/scraping/pins` with `X-API-Key`,
 * body `{search_query, search_type, pages}`. The answer is `{success, data: {data: {pins: [...]},
 * metadata: {total_pins, search_query}}}`: pins at `body.data.data.pins`, metadata at `body.data.metadata`
 * (what the Python client, `app/core/tools/gptmarket/pinterest.py`, reads).
 *
 * Pins are validated as the Python tool's pydantic model did, so the same answer yields the same pins (and
 * `selectPins` then the same selection): only `aspect_ratio` exactly "9:16" is kept; a missing id becomes
 * ""; `image_width`/`image_height` are whole numbers (a digit string is read as one) or null; a pin with a
 * non-string title or description or a fractional size is malformed and dropped. One deliberate difference:
 * an `image_url` that is not http(s) drops the pin here (the Python tool kept it and failed at upload).
 * Failures are typed ProviderErrors (retryable for 5xx/429/timeouts/network), never a `success:false` that
 * looks like an empty result.
 */
import type { ScrapedPin } from '@gptmarket/contracts';
import { httpProviderError, ProviderError, toProviderError } from '../errors.js';
import { providerLimiter, type ProviderLimiter } from '../limits.js';

export type PinterestPin = ScrapedPin;

export interface GptMarketEnvInput {
  GPTMARKET_API_URL?: string | undefined;
  GPTMARKET_API_KEY?: string | undefined;
}
export interface ScrapeRequest {
  search_query: string;
  search_type?: string;
  pages?: number;
}
export interface ScrapeResult {
  pins: PinterestPin[];
  total: number;
  query: string;
}
export interface GptMarketClient {
  scrapePins(req: ScrapeRequest, signal?: AbortSignal): Promise<ScrapeResult>;
}

export const GPTMARKET_DEFAULT_URL = 'https://www.gptmarket.io/api';
const TIMEOUT_MS = 30_000;

const MALFORMED = Symbol('malformed');
/** `str | None`: a string as is, null when absent, malformed otherwise. */
const optionalText = (v: unknown): string | null | typeof MALFORMED =>
  v === undefined || v === null ? null : typeof v === 'string' ? v : MALFORMED;
/** `int | None`: a whole number (or a string of digits), null when absent, malformed otherwise. */
const optionalSize = (v: unknown): number | null | typeof MALFORMED => {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : MALFORMED;
  if (typeof v === 'string' && /^\d{1,9}$/.test(v)) return Number(v);
  return MALFORMED;
};

/** One raw pin as the scraper tool keeps it, or null when it is not 9:16 or malformed. */
function pinOf(raw: unknown): PinterestPin | null {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const p = raw as Record<string, unknown>;
  if (p.aspect_ratio !== '9:16') return null;
  const url = p.image_url;
  if (typeof url !== 'string' || !/^https?:\/\/\S+$/i.test(url)) return null;
  const title = optionalText(p.title);
  const description = optionalText(p.description);
  const width = optionalSize(p.image_width);
  const height = optionalSize(p.image_height);
  if (title === MALFORMED || description === MALFORMED || width === MALFORMED || height === MALFORMED) return null;
  const id = typeof p.id === 'string' ? p.id : typeof p.id === 'number' && Number.isFinite(p.id) ? String(p.id) : '';
  return { id, title, description, image_url: url, aspect_ratio: '9:16', image_width: width, image_height: height };
}

/** The 9:16 pins of a scraper answer (`body.data.data.pins`), malformed ones dropped. */
export function parsePins(body: unknown): { pins: PinterestPin[]; totalPins: number | null; query: string | null } {
  const b = (body && typeof body === 'object' ? body : {}) as {
    success?: unknown;
    error?: unknown;
    message?: unknown;
    data?: { data?: { pins?: unknown }; metadata?: { total_pins?: unknown; search_query?: unknown } };
  };
  if (b.success === false) {
    const reason = [b.error, b.message].find((v): v is string => typeof v === 'string' && v.trim() !== '');
    throw new ProviderError('gptmarket', 'failed', `gptmarket: the API answered success:false${reason ? `: ${reason}` : ''}`, {
      retryable: false,
    });
  }
  const raw = b.data && typeof b.data === 'object' && b.data.data && typeof b.data.data === 'object' ? b.data.data.pins : undefined;
  if (!Array.isArray(raw))
    throw new ProviderError('gptmarket', 'invalid_output', 'gptmarket: the answer has no data.data.pins list', { retryable: false });
  const pins = raw.map(pinOf).filter((p): p is PinterestPin => p !== null);
  const meta = b.data?.metadata && typeof b.data.metadata === 'object' ? b.data.metadata : {};
  const total =
    typeof meta.total_pins === 'number' && Number.isSafeInteger(meta.total_pins) && meta.total_pins >= 0 ? meta.total_pins : null;
  const query = typeof meta.search_query === 'string' && meta.search_query.trim() !== '' ? meta.search_query : null;
  return { pins, totalPins: total, query };
}

export function createGptMarket(env: GptMarketEnvInput, opts: { limiter?: ProviderLimiter; timeoutMs?: number } = {}): GptMarketClient {
  const key = env.GPTMARKET_API_KEY;
  if (!key) throw new Error('createGptMarket: GPTMARKET_API_KEY is not set');
  const base = (env.GPTMARKET_API_URL ?? GPTMARKET_DEFAULT_URL).replace(/\/+$/, '');
  const limiter = opts.limiter ?? providerLimiter('gptmarket');
  const timeoutMs = opts.timeoutMs ?? TIMEOUT_MS;
  return {
    async scrapePins(req, signal) {
      const query = req.search_query.trim();
      if (!query) throw new ProviderError('gptmarket', 'bad_request', 'gptmarket: search_query is empty', { retryable: false });
      const pages = Math.min(10, Math.max(1, Math.trunc(req.pages ?? 1)));
      const body = JSON.stringify({ search_query: query, search_type: req.search_type ?? 'social_media', pages });
      return limiter.run(
        async () => {
          const timeout = AbortSignal.timeout(timeoutMs);
          const all = signal ? AbortSignal.any([signal, timeout]) : timeout;
          let res: Response;
          let text: string;
          try {
            res = await fetch(`${base}/v1/scraping/pins`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': key },
              body,
              signal: all,
            });
            text = await res.text();
          } catch (err) {
            if (timeout.aborted && !signal?.aborted)
              throw new ProviderError('gptmarket', 'timeout', `gptmarket: request timed out after ${timeoutMs} ms`);
            throw toProviderError('gptmarket', err, signal);
          }
          if (!res.ok) throw httpProviderError('gptmarket', res.status, text, res.headers);
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            throw new ProviderError('gptmarket', 'invalid_output', 'gptmarket: invalid JSON response', { retryable: false });
          }
          const parsed = parsePins(json);
          return { pins: parsed.pins, total: parsed.totalPins ?? parsed.pins.length, query: parsed.query ?? query };
        },
        { model: 'scraping/pins', ...(signal ? { signal } : {}) },
      );
    },
  };
}
