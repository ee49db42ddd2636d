/**
 * Replicate predictions through the official `replicate` SDK, pointed at REPLICATE_BASE_URL.
 *
 * The SDK's own retry loop ignores Retry-After; we hand it a `fetch` that does the retrying (429 with the
 * provider's hint through the shared limiter; 5xx/network only for GETs, never for a paid create) and
 * turns every non-2xx answer into a typed ProviderError.
 */
import Replicate from 'replicate';
import { ProviderError, httpProviderError, sanitizeReason, toProviderError } from '../errors.js';
import { providerLimiter, sleep, type ProviderLimiter } from '../limits.js';

export interface ReplicateEnvInput {
  REPLICATE_API_KEY?: string | undefined;
  REPLICATE_API_TOKEN?: string | undefined;
  REPLICATE_BASE_URL?: string | undefined;
}

export type PredictionStatus = 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled';
export interface Prediction {
  id: string;
  status: PredictionStatus;
  output: unknown;
  error: string | null;
  /** Seconds the model ran (`metrics.predict_time`), once Replicate reports it (on a finished prediction). */
  predictTime?: number;
}

/** A prediction as Replicate lists it: which model, with which input, when. */
export interface ListedPrediction {
  id: string;
  model: string;
  input: Record<string, unknown>;
  status: string;
  created_at: string;
}

export interface ReplicateClient {
  create(model: string, input: Record<string, unknown>, signal?: AbortSignal): Promise<{ id: string }>;
  get(id: string, signal?: AbortSignal): Promise<Prediction>;
  cancel(id: string): Promise<void>;
  /** The account's predictions created after `since`, newest first (`GET /v1/predictions?created_after=`), up to `maxPages` pages. */
  listSince(since: Date, signal?: AbortSignal, maxPages?: number): Promise<ListedPrediction[]>;
  readonly limiter: ProviderLimiter;
}

export const REPLICATE_DEFAULT_BASE_URL = 'https://api.replicate.com/v1';

/** The API key (REPLICATE_API_KEY, or its alias REPLICATE_API_TOKEN), or undefined when Replicate is off. */
export const replicateKey = (env: ReplicateEnvInput): string | undefined => env.REPLICATE_API_KEY ?? env.REPLICATE_API_TOKEN ?? undefined;

const STATUSES: ReadonlySet<string> = new Set(['starting', 'processing', 'succeeded', 'failed', 'canceled']);

function toPrediction(raw: unknown): Prediction {
  const r = (raw ?? {}) as Record<string, unknown>;
  if (typeof r.id !== 'string' || !r.id || typeof r.status !== 'string' || !STATUSES.has(r.status)) {
    throw new ProviderError('replicate', 'invalid_output', 'replicate: malformed prediction in response', { retryable: true });
  }
  const error = r.error == null ? null : sanitizeReason(typeof r.error === 'string' ? r.error : JSON.stringify(r.error));
  const metrics = (r.metrics ?? {}) as Record<string, unknown>;
  const predictTime = typeof metrics.predict_time === 'number' && Number.isFinite(metrics.predict_time) ? metrics.predict_time : undefined;
  return {
    id: r.id,
    status: r.status as PredictionStatus,
    output: r.output ?? null,
    error,
    ...(predictTime !== undefined ? { predictTime } : {}),
  };
}

/** The model a request names in its path (`/models/{owner}/{name}/predictions`), for metrics; polls name none. */
const modelOfUrl = (url: string): string | undefined => /\/models\/([^/]+\/[^/]+)\/predictions/.exec(url)?.[1];

/** Creates the client (once per process). Throws when no key is configured. */
export function createReplicate(env: ReplicateEnvInput, opts: { limiter?: ProviderLimiter } = {}): ReplicateClient {
  const auth = replicateKey(env);
  if (!auth) throw new Error('createReplicate: REPLICATE_API_KEY is not set');
  const limiter = opts.limiter ?? providerLimiter('replicate');
  const failures = new WeakMap<object, ProviderError>();

  const guardedFetch = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const key = (init ?? {}) as object;
    const sticky = failures.get(key);
    if (sticky) throw sticky; // the SDK re-calls fetch after an error; the decision was already made
    const method = (init?.method ?? 'GET').toUpperCase();
    const isCreate = method === 'POST' && !/\/cancel$/.test(String(url));
    try {
      return await limiter.retry(
        async () => {
          let res: Response;
          try {
            res = await fetch(url, init);
          } catch (err) {
            throw toProviderError('replicate', err, init?.signal ?? undefined);
          }
          if (res.ok) return res;
          const body = await res.text().catch(() => '');
          throw httpProviderError('replicate', res.status, body, res.headers);
        },
        {
          // A 5xx on a create may have created (and billed) the prediction: never retried in process.
          retryUnavailable: !isCreate,
          model: modelOfUrl(String(url)),
          ...(init?.signal ? { signal: init.signal } : {}),
        },
      );
    } catch (err) {
      const e = toProviderError('replicate', err, init?.signal ?? undefined);
      failures.set(key, e);
      throw e;
    }
  };

  const sdk = new Replicate({
    auth,
    baseUrl: env.REPLICATE_BASE_URL ?? REPLICATE_DEFAULT_BASE_URL,
    useFileOutput: false,
    fetch: guardedFetch as typeof fetch,
  });

  return {
    limiter,
    async create(model, input, signal) {
      const res = (await sdk.predictions.create({ model, input, ...(signal ? { signal } : {}) })) as unknown;
      return { id: toPrediction(res).id };
    },
    async get(id, signal) {
      return toPrediction(await sdk.predictions.get(id, signal ? { signal } : {}));
    },
    async cancel(id) {
      await sdk.predictions.cancel(id);
    },
    async listSince(since, signal, maxPages = 5) {
      const found: ListedPrediction[] = [];
      let page: string | null = `/predictions?created_after=${encodeURIComponent(since.toISOString())}`;
      for (let n = 0; page && n < maxPages; n++) {
        const res = await sdk.request(page, { method: 'GET', ...(signal ? { signal } : {}) });
        const body = (await res.json()) as { next?: unknown; results?: unknown };
        for (const r of Array.isArray(body.results) ? (body.results as Array<Record<string, unknown>>) : []) {
          if (typeof r.id === 'string' && typeof r.model === 'string' && r.input && typeof r.input === 'object')
            found.push({
              id: r.id,
              model: r.model,
              input: r.input as Record<string, unknown>,
              status: String(r.status),
              created_at: String(r.created_at),
            });
        }
        page = typeof body.next === 'string' ? body.next : null;
      }
      return found;
    },
  };
}

/**
 * Whether a listed prediction's input is the one we would send: equal values, where URLs are compared without their
 * query (a presigned URL of the same object is signed afresh by every attempt).
 */
function sameInput(a: unknown, b: unknown): boolean {
  const norm = (v: unknown): unknown => {
    if (typeof v === 'string' && /^https?:\/\//.test(v)) {
      try {
        const u = new URL(v);
        return `${u.origin}${u.pathname}`;
      } catch {
        return v;
      }
    }
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>)
          .filter(([, x]) => x !== undefined)
          .sort(([k1], [k2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : 0))
          .map(([k, x]) => [k, norm(x)]),
      );
    return v;
  };
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

/** The output URL of a finished prediction: a string, the first of a list (or its `.url`), or an object's `url`. */
export function outputUrl(output: unknown): string | null {
  const pick = (v: unknown): string | null => {
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object' && typeof (v as { url?: unknown }).url === 'string') return (v as { url: string }).url;
    return null;
  };
  const url = Array.isArray(output) ? pick(output[0]) : pick(output);
  return url && /^https?:\/\//.test(url) ? url : null;
}

export interface RunPredictionOptions {
  client: ReplicateClient;
  /** Registry id for messages (e.g. `kling-v2.6`); `model` is the Replicate slug. */
  modelLabel?: string;
  model: string;
  input: Record<string, unknown>;
  /** A prediction created by an earlier attempt: resumed instead of creating (and paying for) another. */
  resumeId?: string | undefined;
  /**
   * An earlier attempt may have created a prediction whose id it never recorded (it died between Replicate's answer
   * and its record, or with the create in flight): before creating, adopt the newest prediction of the same model and
   * input created after this time. Replicate has no idempotency key for creates; listing is how it lets us find one.
   */
  adoptCreatedAfter?: Date | undefined;
  /** Called with the id of an adopted prediction (before `onSubmitted`). */
  onAdopted?: (id: string) => void;
  /** Called with the id as soon as the prediction exists (record it before waiting). */
  onSubmitted?: (id: string) => void | Promise<void>;
  /** Called on every poll (heartbeat). */
  onPoll?: (p: Prediction) => void;
  /** Aborting cancels the prediction at the provider (the job is no longer wanted). */
  signal?: AbortSignal;
  /**
   * Aborting stops waiting WITHOUT canceling the prediction (worker shutdown, heartbeat timeout): a later
   * attempt resumes it by id. Rejects with the signal's reason.
   */
  detachSignal?: AbortSignal;
  pollMs?: number;
  /** Overall deadline for the prediction (default 30 min). */
  timeoutMs?: number;
}

/**
 * Creates (or resumes) a prediction and polls it to the end. A slot of the Replicate gate is held for the
 * whole prediction. On abort the prediction is canceled at the provider. A failed or canceled prediction
 * is a non-retryable ProviderError naming the model and the provider's reason; no output URL is
 * `invalid_output`.
 */
export async function runPrediction(opts: RunPredictionOptions): Promise<{ id: string; outputUrl: string; predictTime?: number }> {
  const { client, model, input } = opts;
  const label = opts.modelLabel ?? model;
  // One signal for the HTTP calls and sleeps; which of the two fired decides whether the job is canceled.
  const signal = opts.detachSignal && opts.signal ? AbortSignal.any([opts.signal, opts.detachSignal]) : (opts.signal ?? opts.detachSignal);
  const detached = () => opts.detachSignal?.aborted === true && opts.signal?.aborted !== true;
  const pollMs = opts.pollMs ?? 2000;
  const deadline = Date.now() + (opts.timeoutMs ?? 30 * 60_000);
  const release = await client.limiter.acquire(signal);
  let id: string | undefined = opts.resumeId;
  try {
    if (!id && opts.adoptCreatedAfter) {
      const since = opts.adoptCreatedAfter;
      const listed = await client.listSince(since, signal);
      id = listed.find((p) => p.model === model && Date.parse(p.created_at) >= since.getTime() && sameInput(p.input, input))?.id;
      if (id) opts.onAdopted?.(id);
    }
    if (!id) {
      id = (await client.create(model, input, signal)).id;
    }
    await opts.onSubmitted?.(id);
    for (;;) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      const p = await client.get(id, signal);
      opts.onPoll?.(p);
      if (p.status === 'succeeded') {
        const url = outputUrl(p.output);
        if (!url)
          throw new ProviderError('replicate', 'invalid_output', `${label}: prediction ${id} succeeded without an output URL`, {
            retryable: false,
          });
        return { id, outputUrl: url, ...(p.predictTime !== undefined ? { predictTime: p.predictTime } : {}) };
      }
      if (p.status === 'failed' || p.status === 'canceled') {
        throw new ProviderError('replicate', p.status, `${label}: prediction ${id} ${p.status}: ${p.error ?? 'no reason given'}`, {
          retryable: false,
        });
      }
      if (Date.now() > deadline) {
        await client.cancel(id).catch(() => {});
        throw new ProviderError('replicate', 'timeout', `${label}: prediction ${id} did not finish in time (canceled)`, {
          retryable: false,
        });
      }
      await sleep(pollMs, signal);
    }
  } catch (err) {
    if (detached()) throw opts.detachSignal!.reason ?? err;
    if (opts.signal?.aborted) {
      if (id) await client.cancel(id).catch(() => {});
      throw new ProviderError('replicate', 'canceled', `${label}: canceled${id ? ` (prediction ${id} canceled at the provider)` : ''}`, {
        retryable: false,
        cause: err,
      });
    }
    throw toProviderError('replicate', err);
  } finally {
    release();
  }
}
