import { describe, expect, it, vi } from 'vitest';
import { createProviderLimiter, providerConcurrency, providerLimiter, providerRate, ProviderError } from '../src/index.js';

const rateLimited = (ms?: number) =>
  new ProviderError('x', 'rate_limited', 'x HTTP 429', { status: 429, ...(ms !== undefined ? { retryAfterMs: ms } : {}) });

describe('provider limiter', () => {
  it('concurrency comes from PROVIDER_CONCURRENCY_<NAME>, one limiter per process and name', () => {
    expect(providerConcurrency('replicate', {})).toBe(4);
    expect(providerConcurrency('elevenlabs', { PROVIDER_CONCURRENCY_ELEVENLABS: '7' })).toBe(7);
    expect(() => providerConcurrency('openai', { PROVIDER_CONCURRENCY_OPENAI: '0' })).toThrow(/PROVIDER_CONCURRENCY_OPENAI/);
    expect(providerRate('gemini', { PROVIDER_RATE_GEMINI: '120' })).toBe(120);
    expect(providerLimiter('test-shared', {})).toBe(providerLimiter('test-shared', {}));
  });

  it('never runs more than `concurrency` calls at once', async () => {
    const l = createProviderLimiter('t', 3);
    let active = 0;
    let max = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        l.run(async () => {
          active++;
          max = Math.max(max, active);
          await new Promise((r) => setTimeout(r, 15));
          active--;
        }),
      ),
    );
    expect(max).toBe(3);
    expect(l.active).toBe(0);
  });

  it('a 429 with Retry-After holds back every caller of the process until it has passed', async () => {
    const l = createProviderLimiter('t', 10);
    const starts: number[] = [];
    let first = true;
    const t0 = Date.now();
    await Promise.all([
      l.run(async () => {
        starts.push(Date.now() - t0);
        if (first) {
          first = false;
          throw rateLimited(600);
        }
      }),
      (async () => {
        await new Promise((r) => setTimeout(r, 50));
        await l.run(async () => void starts.push(Date.now() - t0));
      })(),
    ]);
    // The first call, then both the retry and the late caller only after the 600 ms hint.
    expect(starts).toHaveLength(3);
    expect(starts[0]).toBeLessThan(100);
    expect(starts[1]).toBeGreaterThanOrEqual(580);
    expect(starts[2]).toBeGreaterThanOrEqual(580);
  });

  it('a Retry-After longer than maxWaitMs is thrown to the caller (Temporal retries later)', async () => {
    const l = createProviderLimiter('t', 1);
    let calls = 0;
    const err = await l
      .run(
        async () => {
          calls++;
          throw rateLimited(120_000);
        },
        { maxWaitMs: 1000 },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(calls).toBe(1);
  });

  it('non-retryable errors are not retried; attempts are bounded', async () => {
    const l = createProviderLimiter('t', 1);
    let calls = 0;
    await l
      .run(async () => {
        calls++;
        throw new ProviderError('x', 'bad_request', 'no');
      })
      .catch(() => {});
    expect(calls).toBe(1);
    calls = 0;
    await l
      .run(
        async () => {
          calls++;
          throw new ProviderError('x', 'unavailable', 'down');
        },
        { maxAttempts: 3, baseDelayMs: 5 },
      )
      .catch(() => {});
    expect(calls).toBe(3);
    calls = 0;
    await l
      .run(
        async () => {
          calls++;
          throw new ProviderError('x', 'unavailable', 'down');
        },
        { retryUnavailable: false },
      )
      .catch(() => {});
    expect(calls).toBe(1);
  });

  it('PROVIDER_RATE spaces request starts evenly', async () => {
    // Fake timers: the schedule is checked exactly, whatever the machine's load.
    vi.useFakeTimers({ now: 0 });
    try {
      const l = createProviderLimiter('t', 10, 600); // one per 100 ms
      const starts: number[] = [];
      const all = Promise.all(Array.from({ length: 5 }, () => l.run(async () => void starts.push(Date.now()))));
      await vi.advanceTimersByTimeAsync(1_000);
      await all;
      expect(starts.sort((a, b) => a - b)).toEqual([0, 100, 200, 300, 400]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('error classification', () => {
  it('network failures are retryable, programming errors are not, keys are redacted', async () => {
    const { toProviderError, sanitizeReason, parseRetryAfter } = await import('../src/index.js');
    const refused = await fetch('http://127.0.0.1:1/').catch((e: unknown) => e);
    expect(toProviderError('p', refused)).toMatchObject({ code: 'unavailable', retryable: true });
    expect(toProviderError('p', new TypeError("Cannot read properties of undefined (reading 'x')"))).toMatchObject({ retryable: false });
    expect(
      toProviderError('p', Object.assign(new Error('Too Many Requests'), { status: 429, headers: { 'retry-after': '3' } })),
    ).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 3000 });
    expect(sanitizeReason('Incorrect API key provided: sk-proj-abcdefghijklmnop1234. Bearer abcdefghijklmnopqrstuvwxyz')).not.toMatch(
      /abcdefghijklmnop/,
    );
    expect(sanitizeReason('x'.repeat(500)).length).toBe(200);
    expect(parseRetryAfter({ 'retry-after': new Date(Date.now() + 5000).toUTCString() })).toBeGreaterThan(3000);
    expect(parseRetryAfter({ 'retry-after-ms': '250' })).toBe(250);
  });
});
