/**
 * The GPTMarket.io API's Pinterest scraper: `POST {GPTMARKET_API_URL}/v1/scraping/pins` with
 * `X-API-Key`, body `{search_query, search_type, pages}`; pins at `data.pins`, metadata at `metadata`.
 * Like the Python tool, only pins whose `aspect_ratio` is exactly "9:16" are kept and malformed pins are
 * dropped. Unlike it, failures are typed ProviderErrors (retryable for 5xx/429/timeouts/network), never a
 * `success:false` that looks like an empty result.
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

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : null);

/** The 9:16 pins of a scraper answer, malformed ones dropped. */
export function parsePins(body: unknown): { pins: PinterestPin[]; totalPins: number | null; query: string | null } {
  const b = (body ?? {}) as { data?: { pins?: unknown }; metadata?: { total_pins?: unknown; search_query?: unknown } };
  const raw = Array.isArray(b.data?.pins) ? b.data.pins : null;
  if (!raw) throw new ProviderError('gptmarket', 'invalid_output', 'gptmarket: the answer has no data.pins list', { retryable: false });
  const pins: PinterestPin[] = [];
  for (const p of raw as Array<Record<string, unknown>>) {
    if (!p || typeof p !== 'object') continue;
    const id = str(p.id) ?? (typeof p.id === 'number' ? String(p.id) : null);
    const url = str(p.image_url);
    if (!id || !url || !/^https?:\/\//.test(url) || p.aspect_ratio !== '9:16') continue;
    pins.push({
      id,
      title: str(p.title),
      description: str(p.description),
      image_url: url,
      aspect_ratio: '9:16',
      image_width: int(p.image_width),
      image_height: int(p.image_height),
    });
  }
  return { pins, totalPins: int(b.metadata?.total_pins), query: str(b.metadata?.search_query) };
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
            if (timeout.aborted && !signal?.aborted) throw new ProviderError('gptmarket', 'timeout', `gptmarket: request timed out after ${timeoutMs} ms`);
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
        signal ? { signal } : {},
      );
    },
  };
}
