/**
 * Per-process provider gates. Each provider gets one limiter per process (`providerLimiter(name)`):
 * - a concurrency gate sized by `PROVIDER_CONCURRENCY_<NAME>` (defaults below), so however many workflows
 *   run, this process never has more calls (or, for Replicate, predictions) in flight than configured;
 * - an optional request rate, `PROVIDER_RATE_<NAME>` requests per minute: request starts are spaced evenly;
 * - a shared cool-down: when the provider answers 429, every caller in the process waits for the
 *   provider's Retry-After hint (or an exponential backoff) before the next request.
 * Cluster-wide limits are the sum over worker processes, except Replicate's create rate: the generation worker gives
 * its Replicate client a gate without a rate (`createProviderLimiter`) and has Temporal pace the creates on a task
 * queue of their own, for every replica together (see the README, "Across processes").
 */
import { ProviderError } from './errors.js';
import { observeProviderCall } from './observe.js';

export const DEFAULT_CONCURRENCY: Record<string, number> = {
  replicate: 4,
  openai: 8,
  gemini: 8,
  elevenlabs: 2,
  cartesia: 2,
  gptmarket: 4,
  assemblyai: 2,
};

export interface RetryOptions {
  signal?: AbortSignal;
  /** Total attempts including the first (default 4). */
  maxAttempts?: number;
  /** Also retry 5xx/timeouts/network errors (default true; pass false for non-idempotent paid creates). */
  retryUnavailable?: boolean;
  /** Longest single wait honoured in process; a longer Retry-After is thrown to the caller (default 60 s). */
  maxWaitMs?: number;
  /** Base of the exponential backoff when no hint is given (default 500 ms). */
  baseDelayMs?: number;
  /** The model asked, for metrics and traces (`none` when a request has none, e.g. a status poll). */
  model?: string;
}

export interface ProviderLimiter {
  readonly name: string;
  readonly concurrency: number;
  /** Calls in flight now. */
  readonly active: number;
  /** Takes a slot (waits while the gate is full); call the returned function to give it back. */
  acquire(signal?: AbortSignal): Promise<() => void>;
  /** Retries `fn` on 429 (honouring Retry-After, shared across the process) and, optionally, on 5xx. No slot taken. */
  retry<T>(fn: () => Promise<T>, opts?: RetryOptions): Promise<T>;
  /** `acquire` + `retry`: the slot is held only while a request runs, not while backing off. */
  run<T>(fn: () => Promise<T>, opts?: RetryOptions): Promise<T>;
  /** Records a 429 hint: no request starts in this process before it has passed. */
  coolDown(ms: number): void;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const t = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

class Limiter implements ProviderLimiter {
  private inFlight = 0;
  private readonly waiters: Array<() => void> = [];
  private coolUntil = 0;
  private nextStart = 0;
  private readonly spacingMs: number;

  constructor(
    readonly name: string,
    readonly concurrency: number,
    /** Requests per minute (0: unlimited). */
    readonly ratePerMinute = 0,
  ) {
    this.spacingMs = ratePerMinute > 0 ? 60_000 / ratePerMinute : 0;
  }

  /** Waits for the cool-down and for this request's slot in the rate. */
  private async pace(signal?: AbortSignal) {
    for (;;) {
      const now = Date.now();
      const wait = this.coolUntil - now;
      if (wait > 0) {
        await sleep(wait, signal);
        continue;
      }
      if (this.spacingMs === 0) return;
      const start = Math.max(now, this.nextStart);
      this.nextStart = start + this.spacingMs;
      if (start > now) await sleep(start - now, signal);
      return;
    }
  }

  get active() {
    return this.inFlight;
  }

  coolDown(ms: number) {
    this.coolUntil = Math.max(this.coolUntil, Date.now() + Math.max(0, ms));
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    while (this.inFlight >= this.concurrency) {
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal?.reason ?? new Error('aborted'));
        };
        if (signal?.aborted) return onAbort();
        this.waiters.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.waiters.shift()?.();
    };
  }

  async retry<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
    const maxAttempts = opts.maxAttempts ?? 4;
    const maxWait = opts.maxWaitMs ?? 60_000;
    const base = opts.baseDelayMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      await this.pace(opts.signal);
      try {
        return await observeProviderCall(this.name, opts.model, fn);
      } catch (err) {
        if (!(err instanceof ProviderError) || !err.retryable || attempt >= maxAttempts) throw err;
        if (err.code !== 'rate_limited' && opts.retryUnavailable === false) throw err;
        const backoff = Math.min(maxWait, base * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
        const delay = err.retryAfterMs ?? backoff;
        if (delay > maxWait) throw err;
        if (err.code === 'rate_limited') this.coolDown(delay);
        else await sleep(delay, opts.signal);
      }
    }
  }

  async run<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
    return this.retry(async () => {
      const release = await this.acquire(opts.signal);
      try {
        return await fn();
      } finally {
        release();
      }
    }, opts);
  }
}

const limiters = new Map<string, Limiter>();

/** Concurrency configured for a provider: `PROVIDER_CONCURRENCY_<NAME>` or the default. */
export function providerConcurrency(name: string, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[`PROVIDER_CONCURRENCY_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`]?.trim();
  if (raw) {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 1000) {
      throw new Error(`PROVIDER_CONCURRENCY_${name.toUpperCase()}: expected a whole number from 1 to 1000`);
    }
    return n;
  }
  return DEFAULT_CONCURRENCY[name] ?? 4;
}

/** Requests per minute configured for a provider: `PROVIDER_RATE_<NAME>` (unset: no rate limit in process). */
export function providerRate(name: string, env: NodeJS.ProcessEnv = process.env): number {
  const v = `PROVIDER_RATE_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  const raw = env[v]?.trim();
  if (!raw) return 0;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > 1_000_000) throw new Error(`${v}: expected requests per minute, a number above 0`);
  return n;
}

/** The process-wide limiter of a provider (created on first use, then shared). */
export function providerLimiter(name: string, env: NodeJS.ProcessEnv = process.env): ProviderLimiter {
  let l = limiters.get(name);
  if (!l) {
    l = new Limiter(name, providerConcurrency(name, env), providerRate(name, env));
    limiters.set(name, l);
  }
  return l;
}

/** A limiter not shared with the process (tests, or a client with its own budget). */
export function createProviderLimiter(name: string, concurrency: number, ratePerMinute = 0): ProviderLimiter {
  return new Limiter(name, concurrency, ratePerMinute);
}
