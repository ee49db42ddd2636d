/**
 * Typed provider errors. Every call to a paid or remote provider fails with a `ProviderError` whose
 * `retryable` flag says whether trying again later can help (rate limits, 5xx, timeouts, network) or not
 * (bad request, auth, a failed or canceled job). Messages carry a short sanitized reason only: never an
 * API key, never a whole provider body.
 */
export type ProviderErrorCode =
  | 'bad_request'
  | 'auth'
  | 'not_found'
  | 'rate_limited'
  | 'unavailable'
  | 'timeout'
  | 'failed'
  | 'canceled'
  | 'invalid_output';

const RETRYABLE_CODES: ReadonlySet<ProviderErrorCode> = new Set(['rate_limited', 'unavailable', 'timeout']);

export class ProviderError extends Error {
  override name = 'ProviderError';
  readonly provider: string;
  readonly code: ProviderErrorCode;
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(
    provider: string,
    code: ProviderErrorCode,
    message: string,
    opts: { status?: number; retryAfterMs?: number; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(sanitizeReason(message, 400), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.provider = provider;
    this.code = code;
    this.retryable = opts.retryable ?? RETRYABLE_CODES.has(code);
    if (opts.status !== undefined) this.status = opts.status;
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
  }
}

/** A model input that does not satisfy the model's schema: found before anything is paid for. */
export class ModelInputError extends ProviderError {
  override name = 'ModelInputError';
  readonly model: string;
  readonly field: string | undefined;
  constructor(model: string, field: string | undefined, message: string) {
    super('models', 'bad_request', `${model}: ${field ? `${field}: ` : ''}${message}`, { retryable: false });
    this.model = model;
    this.field = field;
  }
}

const SECRET_PATTERNS: RegExp[] = [
  /\b(sk|r8|pk|rk)[-_][A-Za-z0-9_-]{8,}/g,
  /\bAIza[0-9A-Za-z_-]{20,}/g,
  /\b(bearer|token|key)\s*[:=]?\s*[A-Za-z0-9._~+/-]{16,}/gi,
  /\b[A-Fa-f0-9]{32,}\b/g,
];

/** One line, no control characters, no key-looking strings, at most `max` characters. */
export function sanitizeReason(text: unknown, max = 200): string {
  let s = typeof text === 'string' ? text : text instanceof Error ? text.message : String(text ?? '');
  s = s
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  for (const re of SECRET_PATTERNS) s = s.replace(re, '[redacted]');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** `Retry-After` (seconds or an HTTP date) or `retry-after-ms`, in milliseconds; undefined when absent or unparsable. */
export function parseRetryAfter(
  headers: { get(name: string): string | null } | Record<string, unknown> | undefined,
  now = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const get = (n: string): string | null => {
    if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(name: string): string | null }).get(n);
    const v = (headers as Record<string, unknown>)[n] ?? (headers as Record<string, unknown>)[n.toLowerCase()];
    return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : null;
  };
  const ms = get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const ra = get('retry-after');
  if (!ra) return undefined;
  const t = ra.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const date = Date.parse(t);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The error code for an HTTP status. */
export function codeForStatus(status: number): ProviderErrorCode {
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  if (status === 408 || status === 504) return 'timeout';
  if (status >= 500) return 'unavailable';
  return 'bad_request';
}

/** Pulls a short human reason out of a provider's JSON or text error body. */
export function reasonFromBody(body: string): string {
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    const pick = (v: unknown): string | undefined => {
      if (typeof v === 'string') return v;
      if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        return pick(o.message) ?? pick(o.detail) ?? pick(o.error) ?? pick(o.title);
      }
      return undefined;
    };
    return sanitizeReason(pick(j.detail) ?? pick(j.error) ?? pick(j.message) ?? pick(j.title) ?? body);
  } catch {
    return sanitizeReason(body);
  }
}

/** A ProviderError for a non-2xx HTTP response. */
export function httpProviderError(
  provider: string,
  status: number,
  body: string,
  headers?: Parameters<typeof parseRetryAfter>[0],
): ProviderError {
  const code = codeForStatus(status);
  const retryAfterMs = parseRetryAfter(headers);
  const reason = reasonFromBody(body);
  return new ProviderError(provider, code, `${provider} HTTP ${status}${reason ? `: ${reason}` : ''}`, {
    status,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/** Classifies anything thrown by an SDK or fetch (abort, timeout, network, SDK status errors) as a ProviderError. */
export function toProviderError(provider: string, err: unknown, signal?: AbortSignal): ProviderError {
  if (err instanceof ProviderError) return err;
  // SDKs wrap what our fetch wrappers throw: the typed error in the cause chain wins.
  for (let c = (err as { cause?: unknown })?.cause, i = 0; c && i < 4; c = (c as { cause?: unknown }).cause, i++) {
    if (c instanceof ProviderError) return c;
  }
  const e = err as {
    name?: string;
    status?: unknown;
    code?: unknown;
    message?: string;
    headers?: unknown;
    statusCode?: unknown;
    cause?: unknown;
  };
  if (signal?.aborted) return new ProviderError(provider, 'canceled', `${provider}: request canceled`, { retryable: false, cause: err });
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  if (status !== undefined && status >= 400) {
    const retryAfterMs = parseRetryAfter(e.headers as Parameters<typeof parseRetryAfter>[0]);
    const code = codeForStatus(status);
    return new ProviderError(provider, code, `${provider} HTTP ${status}: ${sanitizeReason(e.message ?? '')}`, {
      status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      cause: err,
    });
  }
  const name = e?.name ?? '';
  const msg = e?.message ?? String(err);
  if (/timeout|timed out/i.test(name) || /timeout|timed out/i.test(msg) || e?.code === 'ETIMEDOUT') {
    return new ProviderError(provider, 'timeout', `${provider}: request timed out`, { cause: err });
  }
  if (name === 'AbortError')
    return new ProviderError(provider, 'canceled', `${provider}: request aborted`, { retryable: false, cause: err });
  const causeCode = (e?.cause as { code?: unknown } | undefined)?.code;
  if (
    /APIConnectionError/.test(name) ||
    (typeof causeCode === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|UND_ERR_)/.test(causeCode)) ||
    /connection|ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|EAI_AGAIN|socket|fetch failed|network|terminated/i.test(msg)
  ) {
    return new ProviderError(provider, 'unavailable', `${provider}: connection failed (${sanitizeReason(msg, 80)})`, { cause: err });
  }
  return new ProviderError(provider, 'unavailable', `${provider}: ${sanitizeReason(msg)}`, { cause: err, retryable: false });
}
