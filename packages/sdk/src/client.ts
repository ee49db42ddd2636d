import type { Generation, WorkflowStatus } from '@gptmarket/contracts';
import { GptMarketError, errorFromResponse } from './errors.js';
import { backoffDelay, linkSignals, sleep } from './signals.js';
import { SseParser, type SseEvent } from './sse.js';
import type {
  ApiKey,
  ApiKeyList,
  CreateApiKeyParams,
  CreatedApiKey,
  GenerationFor,
  GenerationPage,
  GenerationTypeInfo,
  GenerationTypeName,
  HealthResponse,
  InputFor,
  ListGenerationsParams,
  ProgressEvent,
  ReadyResponse,
  TypedGeneration,
  UpdateApiKeyParams,
} from './types.js';

/** Statuses after which a generation never changes again; the SSE stream ends with an event of that name. */
export const FINAL_STATUSES = ['completed', 'failed', 'cancelled'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];
export const isFinalStatus = (status: string): status is FinalStatus => (FINAL_STATUSES as readonly string[]).includes(status);

export interface GptMarketClientOptions {
  /** The gateway's origin (and optional path prefix), e.g. `https://api.example.com`. */
  baseUrl: string;
  /** An API key, sent as `Authorization: Bearer <key>`. Keep it on a server unless it is meant for a browser. */
  apiKey?: string;
  /** HTTP basic credentials, for installs that use `BASIC_AUTH_USER`/`BASIC_AUTH_PASSWORD` instead of keys. */
  basicAuth?: { username: string; password: string };
  /** Extra headers for every request. */
  headers?: Record<string, string>;
  /** A `fetch` implementation; the global one by default. */
  fetch?: typeof fetch;
  /** Deadline of one HTTP request (not of a subscription), default 30 s. */
  timeoutMs?: number;
  /**
   * Automatic retries of one request, default 2. Retried: 429 and 503 (the gateway started nothing), waiting
   * `Retry-After` when given; network errors and 502/504 only for reads, cancel, and creations with an
   * idempotency key. Set 0 to see every error.
   */
  maxRetries?: number;
  /** A `Retry-After` longer than this is not waited for: the error is thrown instead. Default 20 s. */
  maxRetryDelayMs?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export interface CreateGenerationOptions extends RequestOptions {
  /** Sent as `Idempotency-Key`: the same key and body return the same generation instead of starting another. */
  idempotencyKey?: string;
  /** `webhook_url`: each terminal state is POSTed there, signed. */
  webhookUrl?: string;
  /** `metadata`: a small flat JSON object kept with the generation. */
  metadata?: Record<string, string | number | boolean | null>;
}

export interface SubscribeHandlers<G = Generation> {
  /** The stream is open (again, after a reconnection). */
  onOpen?(): void;
  /** `event: progress` with `{status, current_step}`. */
  onProgress?(progress: ProgressEvent, event: SseEvent): void;
  onCompleted?(generation: G): void;
  onFailed?(generation: G): void;
  onCancelled?(generation: G): void;
  /** Any of the three final events, after its own handler. */
  onFinal?(generation: G): void;
  /** Every event as parsed, before the typed handlers. */
  onEvent?(event: SseEvent): void;
  /** A comment line (the gateway's heartbeats). */
  onHeartbeat?(text: string): void;
  /** The connection dropped or failed and will be opened again after `delayMs`. */
  onReconnect?(info: { attempt: number; delayMs: number; lastEventId: string; reason: unknown }): void;
  /** The subscription ended with an error it will not recover from (e.g. 401, 404, not an event stream). */
  onError?(error: unknown): void;
}

export interface SubscribeOptions {
  signal?: AbortSignal;
  /** Resume after this event id (sent as `Last-Event-ID` on the first connection too). */
  lastEventId?: string;
  /** Reconnections in a row without receiving an event before giving up; default unlimited. */
  maxReconnects?: number;
  /** First reconnection delay; the stream's `retry:` field replaces it. Default 1 s. */
  retryDelayMs?: number;
  /** Longest reconnection delay. Default 30 s. */
  maxRetryDelayMs?: number;
  /** Reconnect when nothing (not even a heartbeat) arrived for this long. Default 45 s (three heartbeats). */
  idleTimeoutMs?: number;
}

export type SubscriptionResult<G = Generation> =
  | { status: 'final'; generation: G }
  | { status: 'unsubscribed' }
  | { status: 'error'; error: unknown };

export interface Subscription<G = Generation> {
  /** Stops the subscription and closes its connection. Idempotent. */
  unsubscribe(): void;
  /** Aborted when the subscription ends, for whatever reason. */
  readonly signal: AbortSignal;
  /** Settles (never rejects) when the subscription ends: the final generation, an unsubscribe, or a fatal error. */
  readonly done: Promise<SubscriptionResult<G>>;
  /** The last event id received; pass it as `lastEventId` to resume elsewhere. */
  readonly lastEventId: string;
}

export interface WaitForOptions<G = Generation> {
  /** Give up after this long with a `timeout` error. Default: wait as long as it takes. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Progress as it happens (from the stream, or from polls when it changed). */
  onProgress?(progress: ProgressEvent): void;
  /** `auto` (default): the event stream, and polling when the stream is unavailable. */
  transport?: 'auto' | 'sse' | 'poll';
  /** First polling interval, default 1 s; it grows by half each poll up to `maxPollIntervalMs` (default 5 s). */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  /** Passed to the subscription; default 3 reconnections without progress before falling back to polling. */
  maxReconnects?: number;
  /** Unused; keeps `G` inferable from the argument. */
  readonly __generation?: G;
}

type RetryPolicy = 'idempotent' | 'not-started-only';

interface InternalRequest extends RequestOptions {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  retry: RetryPolicy;
  /** Statuses that are answers, not errors (e.g. 503 of `/ready`). */
  accept?: readonly number[];
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RETRIES = 2;
const DEFAULT_MAX_RETRY_DELAY_MS = 20_000;

/** UTF-8 safe base64 for basic credentials (btoa alone only takes Latin-1). */
function base64Utf8(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

const timeoutError = (what: string, ms: number) =>
  new GptMarketError({ status: 0, code: 'timeout', message: `${what} did not finish within ${ms} ms` });

/** The typed client of the GPTMarket gateway (docs/api.md). Browser-safe: it uses only `fetch` and web streams. */
export class GptMarketClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly authHeader: string | undefined;
  private readonly extraHeaders: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly maxRetryDelayMs: number;

  constructor(options: GptMarketClientOptions) {
    if (!options || typeof options.baseUrl !== 'string' || !/^https?:\/\//i.test(options.baseUrl)) {
      throw new TypeError('GptMarketClient needs a baseUrl starting with http:// or https://');
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new TypeError('no fetch implementation available; pass options.fetch');
    // Called unbound, browsers throw "Illegal invocation".
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    if (options.apiKey) this.authHeader = `Bearer ${options.apiKey}`;
    else if (options.basicAuth) this.authHeader = `Basic ${base64Utf8(`${options.basicAuth.username}:${options.basicAuth.password}`)}`;
    this.extraHeaders = { ...options.headers };
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = Math.max(0, options.maxRetries ?? DEFAULT_MAX_RETRIES);
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS;
  }

  // --- service -----------------------------------------------------------------------------------

  /** `GET /health`: liveness. */
  health(options: RequestOptions = {}): Promise<HealthResponse> {
    return this.request<HealthResponse>({ ...options, method: 'GET', path: '/health', retry: 'idempotent' });
  }

  /** `GET /ready`: readiness of Temporal, the database and storage. A 503 answer is returned with `ok: false`. */
  async ready(options: RequestOptions = {}): Promise<ReadyResponse> {
    const { body, status } = await this.send<Omit<ReadyResponse, 'ok'>>({
      ...options,
      method: 'GET',
      path: '/ready',
      retry: 'idempotent',
      accept: [503],
    });
    if (!body || typeof body !== 'object' || typeof body.checks !== 'object' || body.checks === null) {
      throw new GptMarketError({
        status,
        code: status === 503 ? 'unavailable' : 'invalid_response',
        message: `/ready answered ${status} without checks`,
      });
    }
    return { ...body, ok: status === 200 };
  }

  /** `GET /v1/generation-types`: the catalogue with JSON Schemas of inputs and outputs. */
  generationTypes(options: RequestOptions = {}): Promise<GenerationTypeInfo[]> {
    return this.request<GenerationTypeInfo[]>({ ...options, method: 'GET', path: '/v1/generation-types', retry: 'idempotent' });
  }

  /** `GET /openapi.json`: the OpenAPI document. */
  openapi(options: RequestOptions = {}): Promise<Record<string, unknown>> {
    return this.request<Record<string, unknown>>({ ...options, method: 'GET', path: '/openapi.json', retry: 'idempotent' });
  }

  // --- generations -------------------------------------------------------------------------------

  /**
   * `POST /v1/generations`: starts a generation. For a known type the input is checked by the compiler against
   * that type's contract (and by the gateway in any case); the result is the `202` generation record.
   */
  createGeneration<T extends string>(type: T, input: InputFor<T>, options: CreateGenerationOptions = {}): Promise<GenerationFor<T>> {
    const { idempotencyKey, webhookUrl, metadata, headers, ...rest } = options;
    const body: Record<string, unknown> = { type, input };
    if (webhookUrl !== undefined) body.webhook_url = webhookUrl;
    if (metadata !== undefined) body.metadata = metadata;
    return this.request<GenerationFor<T>>({
      ...rest,
      method: 'POST',
      path: '/v1/generations',
      body,
      headers: idempotencyKey === undefined ? headers : { ...headers, 'idempotency-key': idempotencyKey },
      retry: idempotencyKey === undefined ? 'not-started-only' : 'idempotent',
    });
  }

  /** `GET /v1/generations/:id`. Pass the type as a type argument to read `output` typed. */
  getGeneration<T extends GenerationTypeName | string = string>(id: string, options: RequestOptions = {}): Promise<GenerationFor<T>> {
    return this.request<GenerationFor<T>>({ ...options, method: 'GET', path: `/v1/generations/${encodeId(id)}`, retry: 'idempotent' });
  }

  /** `GET /v1/generations`: one page, newest first. */
  listGenerations(params: ListGenerationsParams = {}, options: RequestOptions = {}): Promise<GenerationPage> {
    return this.request<GenerationPage>({
      ...options,
      method: 'GET',
      path: '/v1/generations',
      query: { type: params.type, status: params.status, limit: params.limit, cursor: params.cursor },
      retry: 'idempotent',
    });
  }

  /**
   * Every generation matching `params`, newest first, fetching pages (of `params.limit`) as the loop advances.
   * `for await (const g of client.iterateGenerations({ status: 'failed' })) ...`; `break` stops fetching.
   */
  async *iterateGenerations(params: ListGenerationsParams = {}, options: RequestOptions = {}): AsyncGenerator<Generation, void, undefined> {
    let cursor = params.cursor;
    const seen = new Set<string>();
    for (;;) {
      const page = await this.listGenerations({ ...params, cursor }, options);
      if (!page || !Array.isArray(page.data)) {
        throw new GptMarketError({ status: 200, code: 'invalid_response', message: 'the list answer has no data array' });
      }
      for (const g of page.data) yield g;
      const next = page.next_cursor;
      if (next === null || next === undefined || next === '') return;
      if (seen.has(next)) {
        throw new GptMarketError({ status: 200, code: 'invalid_response', message: `the gateway repeated the cursor ${next}` });
      }
      seen.add(next);
      cursor = next;
    }
  }

  /** `POST /v1/generations/:id/cancel`: `202` with the generation; it becomes `cancelled` once the workflow stopped. */
  cancelGeneration<T extends string = string>(id: string, options: RequestOptions = {}): Promise<GenerationFor<T>> {
    return this.request<GenerationFor<T>>({
      ...options,
      method: 'POST',
      path: `/v1/generations/${encodeId(id)}/cancel`,
      retry: 'idempotent',
    });
  }

  /** `POST /v1/generations/:id/retry` (failed or cancelled only): `201` with the new generation (`retry_of` = id). */
  retryGeneration<T extends string = string>(id: string, options: RequestOptions = {}): Promise<GenerationFor<T>> {
    return this.request<GenerationFor<T>>({
      ...options,
      method: 'POST',
      path: `/v1/generations/${encodeId(id)}/retry`,
      retry: 'not-started-only',
    });
  }

  // --- API keys (operators: basic auth, or an open gateway) ----------------------------------------

  /** `GET /v1/keys`: every API key, newest first, with budgets and spending; never the keys themselves. */
  async listKeys(options: RequestOptions = {}): Promise<ApiKey[]> {
    return (await this.request<ApiKeyList>({ ...options, method: 'GET', path: '/v1/keys', retry: 'idempotent' })).data;
  }

  /** `POST /v1/keys`: a new key; `key` (the plain key) is in this answer only. */
  createKey(params: CreateApiKeyParams, options: RequestOptions = {}): Promise<CreatedApiKey> {
    return this.request<CreatedApiKey>({ ...options, method: 'POST', path: '/v1/keys', body: params, retry: 'not-started-only' });
  }

  /** `PATCH /v1/keys/:id`: sets (USD) or removes (`null`) a key's daily and monthly budgets; one left out stays. */
  updateKeyBudgets(id: string, params: UpdateApiKeyParams, options: RequestOptions = {}): Promise<ApiKey> {
    return this.request<ApiKey>({
      ...options,
      method: 'PATCH',
      path: `/v1/keys/${encodeId(id, 'an API key id')}`,
      body: params,
      retry: 'idempotent',
    });
  }

  /** `DELETE /v1/keys/:id`: revokes a key (idempotent); answers it with `revoked_at`. */
  revokeKey(id: string, options: RequestOptions = {}): Promise<ApiKey> {
    return this.request<ApiKey>({ ...options, method: 'DELETE', path: `/v1/keys/${encodeId(id, 'an API key id')}`, retry: 'idempotent' });
  }

  // --- live updates --------------------------------------------------------------------------------

  /**
   * Follows `GET /v1/generations/:id/events` (server-sent events over `fetch`, so the Authorization header is
   * sent), reconnecting with `Last-Event-ID` and backoff until a final event (`completed`, `failed`,
   * `cancelled`) arrives, `unsubscribe()` is called or `options.signal` aborts.
   */
  subscribe<G = Generation>(id: string, handlers: SubscribeHandlers<G>, options: SubscribeOptions = {}): Subscription<G> {
    const controller = new AbortController();
    const outer = options.signal;
    const onOuterAbort = () => controller.abort(outer!.reason);
    if (outer?.aborted) controller.abort(outer.reason);
    else outer?.addEventListener('abort', onOuterAbort, { once: true });

    const state = { lastEventId: options.lastEventId ?? '' };
    const done = this.runSubscription<G>(id, handlers, options, controller.signal, state).then(
      (result) => result,
      (error: unknown): SubscriptionResult<G> => ({ status: 'error', error }),
    );
    const settled = done.then((result) => {
      outer?.removeEventListener('abort', onOuterAbort);
      if (!controller.signal.aborted) controller.abort(new Error('subscription ended'));
      if (result.status === 'error') {
        try {
          handlers.onError?.(result.error);
        } catch {
          /* an error handler that throws has nowhere left to report to */
        }
      }
      return result;
    });
    return {
      unsubscribe: () => controller.abort(new Error('unsubscribed')),
      signal: controller.signal,
      done: settled,
      get lastEventId() {
        return state.lastEventId;
      },
    };
  }

  private async runSubscription<G>(
    id: string,
    handlers: SubscribeHandlers<G>,
    options: SubscribeOptions,
    signal: AbortSignal,
    state: { lastEventId: string },
  ): Promise<SubscriptionResult<G>> {
    const url = this.url(`/v1/generations/${encodeId(id)}/events`);
    let retryBaseMs = options.retryDelayMs ?? 1_000;
    const maxDelayMs = options.maxRetryDelayMs ?? 30_000;
    const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
    const maxReconnects = options.maxReconnects ?? Number.POSITIVE_INFINITY;
    let failures = 0;

    for (;;) {
      if (signal.aborted) return { status: 'unsubscribed' };
      let reason: unknown;
      let retryAfterMs: number | undefined;
      let final: SubscriptionResult<G> | undefined;
      let progressed = false;
      const idle = new Error('the event stream went idle');
      const conn = linkSignals([signal]);
      let idleTimer: ReturnType<typeof setTimeout> | undefined;
      const armIdle = () => {
        if (idleTimer !== undefined) clearTimeout(idleTimer);
        idleTimer = setTimeout(() => conn.controller.abort(idle), idleTimeoutMs);
      };
      try {
        armIdle();
        // Only CORS-safelisted headers besides Authorization and Last-Event-ID (no Cache-Control: it would need
        // the gateway to allow it in preflight); `cache: 'no-store'` keeps caches out of the way instead.
        const headers = this.headers({ accept: 'text/event-stream' });
        if (state.lastEventId) headers['last-event-id'] = state.lastEventId;
        let res: Response;
        try {
          res = await this.fetchImpl(url, { method: 'GET', headers, signal: conn.signal, cache: 'no-store' });
        } catch (err) {
          if (signal.aborted) return { status: 'unsubscribed' };
          throw conn.signal.reason === idle ? idle : networkError(err);
        }
        if (!res.ok) {
          const error = await errorFromResponse(res);
          if (!isTransient(error.status)) return { status: 'error', error };
          if (error.retryAfterSeconds !== null) retryAfterMs = error.retryAfterSeconds * 1000;
          throw error;
        }
        const contentType = res.headers.get('content-type') ?? '';
        if (!/^text\/event-stream\b/i.test(contentType) || !res.body) {
          await res.body?.cancel().catch(() => undefined);
          return {
            status: 'error',
            error: new GptMarketError({
              status: res.status,
              code: 'stream_unsupported',
              message: `the events endpoint answered ${contentType || 'no content type'}, not text/event-stream`,
              requestId: res.headers.get('x-request-id'),
            }),
          };
        }
        handlers.onOpen?.();
        const parser = new SseParser(
          {
            onEvent: (event) => {
              state.lastEventId = event.id;
              progressed = true;
              handlers.onEvent?.(event);
              if (event.event === 'progress') {
                handlers.onProgress?.(parseJson<ProgressEvent>(event), event);
              } else if (isFinalStatus(event.event)) {
                const generation = parseJson<G>(event);
                if (event.event === 'completed') handlers.onCompleted?.(generation);
                else if (event.event === 'failed') handlers.onFailed?.(generation);
                else handlers.onCancelled?.(generation);
                handlers.onFinal?.(generation);
                final = { status: 'final', generation };
              }
            },
            onComment: (text) => handlers.onHeartbeat?.(text),
            onRetry: (ms) => {
              retryBaseMs = ms;
            },
          },
          state.lastEventId,
        );
        const reader = res.body.getReader();
        // Not every body stream follows the fetch signal (a polyfill, a service worker, a wrapped response):
        // cancel the reader too, so a pending read ends on unsubscribe and on the idle timeout.
        const cancelReader = () => void reader.cancel(conn.signal.reason).catch(() => undefined);
        conn.signal.addEventListener('abort', cancelReader, { once: true });
        const decoder = new TextDecoder();
        try {
          for (;;) {
            let chunk: ReadableStreamReadResult<Uint8Array>;
            try {
              chunk = await reader.read();
            } catch (err) {
              if (signal.aborted) return { status: 'unsubscribed' };
              throw conn.signal.reason === idle ? idle : networkError(err);
            }
            if (conn.signal.aborted) {
              if (signal.aborted) return { status: 'unsubscribed' };
              throw conn.signal.reason === idle ? idle : networkError(conn.signal.reason);
            }
            if (chunk.done) {
              parser.feed(decoder.decode());
              parser.end();
              break;
            }
            armIdle();
            parser.feed(decoder.decode(chunk.value, { stream: true }));
            if (final) return final;
          }
        } finally {
          conn.signal.removeEventListener('abort', cancelReader);
          conn.controller.abort(new Error('connection closed'));
          try {
            reader.releaseLock();
          } catch {
            /* already released */
          }
        }
        if (final) return final;
        reason = new Error('the event stream ended before a final event');
      } catch (err) {
        if (signal.aborted) return { status: 'unsubscribed' };
        if (err instanceof GptMarketError && err.code === 'invalid_response') return { status: 'error', error: err };
        if (!(err instanceof GptMarketError) && err !== idle) return { status: 'error', error: err }; // a handler threw
        reason = err;
      } finally {
        if (idleTimer !== undefined) clearTimeout(idleTimer);
        conn.dispose();
      }

      failures = progressed ? 1 : failures + 1;
      if (failures > maxReconnects) return { status: 'error', error: reason };
      const delayMs = retryAfterMs ?? backoffDelay(failures, retryBaseMs, maxDelayMs);
      handlers.onReconnect?.({ attempt: failures, delayMs, lastEventId: state.lastEventId, reason });
      try {
        await sleep(delayMs, signal);
      } catch {
        return { status: 'unsubscribed' };
      }
    }
  }

  /**
   * Resolves with the generation once it is `completed`, `failed` or `cancelled` (it does not throw for a failed
   * generation: look at `status` and `error`). Uses the event stream and falls back to polling
   * `GET /v1/generations/:id` when the stream is unavailable. Throws `timeout` after `timeoutMs`, or the signal's
   * reason when `signal` aborts.
   */
  async waitFor<T extends GenerationTypeName>(generation: TypedGeneration<T>, options?: WaitForOptions): Promise<TypedGeneration<T>>;
  async waitFor<G = Generation>(id: string, options?: WaitForOptions<G>): Promise<G>;
  async waitFor(target: string | { id: string }, options: WaitForOptions<unknown> = {}): Promise<unknown> {
    const id = typeof target === 'string' ? target : target.id;
    const timeoutMs = options.timeoutMs;
    const deadline = linkSignals([options.signal], timeoutMs, () => timeoutError(`waiting for ${id}`, timeoutMs ?? 0));
    const signal = deadline.signal;
    const rethrow = (): never => {
      throw signal.reason;
    };
    try {
      const transport = options.transport ?? 'auto';
      if (transport !== 'poll') {
        const sub = this.subscribe<Generation>(
          id,
          { onProgress: (p) => options.onProgress?.({ status: p.status, current_step: p.current_step }) },
          { signal, maxReconnects: options.maxReconnects ?? 3 },
        );
        const result = await sub.done;
        if (result.status === 'final') return result.generation;
        if (result.status === 'unsubscribed') rethrow();
        const error = (result as { error: unknown }).error;
        if (transport === 'sse' || (error instanceof GptMarketError && error.status === 401)) throw error;
        // Anything else (no events route yet, a proxy that buffers, repeated drops): poll instead.
      }
      let interval = options.pollIntervalMs ?? 1_000;
      const maxInterval = options.maxPollIntervalMs ?? 5_000;
      let lastSeen = '';
      for (;;) {
        let g: Generation;
        try {
          g = await this.getGeneration(id, { signal });
        } catch (err) {
          if (signal.aborted) rethrow();
          throw err;
        }
        if (isFinalStatus(g.status)) return g;
        const key = JSON.stringify([g.status, g.current_step]);
        if (key !== lastSeen) {
          lastSeen = key;
          options.onProgress?.({ status: g.status, current_step: g.current_step });
        }
        try {
          await sleep(interval, signal);
        } catch {
          rethrow();
        }
        interval = Math.min(maxInterval, Math.round(interval * 1.5));
      }
    } finally {
      deadline.dispose();
    }
  }

  // --- transport -----------------------------------------------------------------------------------

  private url(path: string, query?: Record<string, string | number | undefined>): string {
    let url = this.baseUrl + path;
    if (query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') qs.set(k, String(v));
      const s = qs.toString();
      if (s) url += `?${s}`;
    }
    return url;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.extraHeaders)) h[k.toLowerCase()] = v;
    if (this.authHeader) h.authorization = this.authHeader;
    for (const [k, v] of Object.entries(extra)) h[k.toLowerCase()] = v;
    return h;
  }

  private async request<T>(req: InternalRequest): Promise<T> {
    return (await this.send<T>(req)).body;
  }

  /** One API call with a deadline per attempt and bounded retries; throws {@link GptMarketError} for errors. */
  private async send<T>(req: InternalRequest): Promise<Answer<T>> {
    const url = this.url(req.path, req.query);
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const headers = this.headers({
      accept: 'application/json',
      ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...req.headers,
    });
    const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt<T>(req, url, headers, payload, timeoutMs);
      if (!('error' in outcome)) return outcome;
      const { error, retryable } = outcome;
      if (!retryable || attempt >= this.maxRetries) throw error;
      const delayMs = error.retryAfterSeconds !== null ? error.retryAfterSeconds * 1000 : backoffDelay(attempt + 1, 500, 8_000);
      if (delayMs > this.maxRetryDelayMs) throw error;
      await sleep(delayMs, req.signal);
    }
  }

  private async attempt<T>(
    req: InternalRequest,
    url: string,
    headers: Record<string, string>,
    payload: string | undefined,
    timeoutMs: number,
  ): Promise<Answer<T> | { error: GptMarketError; retryable: boolean }> {
    if (req.signal?.aborted) throw req.signal.reason;
    const timeoutReason = timeoutError(`${req.method} ${req.path}`, timeoutMs);
    const linked = linkSignals([req.signal], timeoutMs, () => timeoutReason);
    const interrupted = () => {
      if (req.signal?.aborted) return req.signal.reason as unknown;
      if (linked.signal.aborted && linked.signal.reason === timeoutReason) return timeoutReason;
      return undefined;
    };
    try {
      let res: Response;
      try {
        res = await this.fetchImpl(url, { method: req.method, headers, body: payload, signal: linked.signal });
      } catch (err) {
        const why = interrupted();
        if (why !== undefined) throw why;
        return { error: networkError(err), retryable: req.retry === 'idempotent' };
      }
      try {
        if (res.ok || req.accept?.includes(res.status)) {
          const text = await res.text();
          try {
            return { body: (text ? JSON.parse(text) : null) as T, status: res.status, headers: res.headers };
          } catch (cause) {
            throw new GptMarketError({
              status: res.status,
              code: 'invalid_response',
              message: `${req.method} ${req.path} answered something that is not JSON`,
              requestId: res.headers.get('x-request-id'),
              cause,
            });
          }
        }
        const error = await errorFromResponse(res);
        const retryable =
          error.status === 429 || error.status === 503 || (req.retry === 'idempotent' && (error.status === 502 || error.status === 504));
        return { error, retryable };
      } catch (err) {
        const why = interrupted();
        if (why !== undefined) throw why;
        if (err instanceof GptMarketError) throw err;
        // The body broke off mid-way.
        return { error: networkError(err), retryable: req.retry === 'idempotent' };
      }
    } finally {
      linked.dispose();
    }
  }
}

interface Answer<T> {
  body: T;
  status: number;
  headers: Headers;
}

function encodeId(id: string, what = 'a generation id'): string {
  if (typeof id !== 'string' || id.length === 0) throw new TypeError(`${what} is required`);
  return encodeURIComponent(id);
}

function networkError(cause: unknown): GptMarketError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new GptMarketError({ status: 0, code: 'network_error', message: `the gateway could not be reached: ${detail}`, cause });
}

/** Statuses worth reconnecting after: the gateway or a proxy is briefly unavailable, or asks to slow down. */
function isTransient(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function parseJson<T>(event: SseEvent): T {
  try {
    return JSON.parse(event.data) as T;
  } catch (cause) {
    throw new GptMarketError({
      status: 200,
      code: 'invalid_response',
      message: `the ${event.event} event (id ${event.id || 'none'}) does not carry JSON`,
      cause,
    });
  }
}

/** Narrows an untyped generation record to a type's typed record. */
export function isGenerationOfType<T extends GenerationTypeName>(generation: { type: string }, type: T): generation is TypedGeneration<T> {
  return generation.type === type;
}

export type { WorkflowStatus };
