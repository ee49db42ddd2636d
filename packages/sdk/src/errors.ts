import type { ErrorCode } from '@gptmarket/contracts';

/**
 * Codes the SDK raises itself, without an answer from the gateway (status 0):
 * - `network_error`: the request never got an HTTP answer (connection refused, DNS, CORS refusal in a browser);
 * - `timeout`: a deadline given to the SDK passed (`timeoutMs` of a request or of `waitFor`);
 * - `invalid_response`: the gateway answered something that is not the documented shape;
 * - `stream_unsupported`: the events endpoint did not answer with `text/event-stream`.
 */
export const CLIENT_ERROR_CODES = ['network_error', 'timeout', 'invalid_response', 'stream_unsupported'] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/** Every code a {@link GptMarketError} can carry: the API's error codes (docs/api.md) and the SDK's own. */
export type GptMarketErrorCode = ErrorCode | ClientErrorCode;

export interface GptMarketErrorInit {
  status: number;
  code: GptMarketErrorCode;
  message: string;
  details?: unknown;
  requestId?: string | null;
  retryAfterSeconds?: number | null;
  cause?: unknown;
}

/** One validation problem as the gateway lists it in `details` for `validation_failed`. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** An error answered by the gateway (its envelope), or raised by the SDK with status 0 and a client code. */
export class GptMarketError extends Error {
  override readonly name = 'GptMarketError';
  /** HTTP status; 0 when no HTTP answer was involved. */
  readonly status: number;
  readonly code: GptMarketErrorCode;
  readonly details: unknown;
  /** The gateway's `request_id` (also sent as `x-request-id`), to quote in a support request. */
  readonly requestId: string | null;
  /** For 429 (and 503 when given): seconds the gateway asked to wait, from `Retry-After`. */
  readonly retryAfterSeconds: number | null;

  constructor(init: GptMarketErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.details = init.details;
    this.requestId = init.requestId ?? null;
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
  }

  /** The `details` of a `validation_failed` error as `{path, message}` pairs (empty for other errors). */
  get issues(): ValidationIssue[] {
    if (!Array.isArray(this.details)) return [];
    return this.details.filter(
      (d): d is ValidationIssue => typeof d === 'object' && d !== null && typeof d.path === 'string' && typeof d.message === 'string',
    );
  }
}

export const isGptMarketError = (err: unknown): err is GptMarketError => err instanceof GptMarketError;

/** `Retry-After` as seconds: either delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** Turns a non-2xx answer into a {@link GptMarketError}, reading the API's envelope when there is one. */
export async function errorFromResponse(res: Response): Promise<GptMarketError> {
  const retryAfterSeconds = parseRetryAfter(res.headers.get('retry-after'));
  const headerRequestId = res.headers.get('x-request-id');
  let text = '';
  try {
    text = await res.text();
  } catch {
    /* the body could not be read; fall through to a generic error */
  }
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  const envelope = (body as { error?: Record<string, unknown> } | null)?.error;
  if (envelope && typeof envelope === 'object' && typeof envelope.code === 'string' && typeof envelope.message === 'string') {
    return new GptMarketError({
      status: res.status,
      code: envelope.code as GptMarketErrorCode,
      message: envelope.message,
      details: envelope.details,
      requestId: typeof envelope.request_id === 'string' ? envelope.request_id : headerRequestId,
      retryAfterSeconds,
    });
  }
  return new GptMarketError({
    status: res.status,
    code: fallbackCode(res.status),
    message: `the gateway answered ${res.status} ${res.statusText || ''}`.trim(),
    details: text ? text.slice(0, 500) : undefined,
    requestId: headerRequestId,
    retryAfterSeconds,
  });
}

function fallbackCode(status: number): GptMarketErrorCode {
  switch (status) {
    case 400:
      return 'validation_failed';
    case 401:
    case 403:
      return 'unauthorized';
    case 404:
      return 'not_found';
    case 409:
      return 'invalid_state';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    case 502:
    case 503:
    case 504:
      return 'unavailable';
    default:
      return status >= 500 ? 'internal' : 'invalid_response';
  }
}
