import { describe, expect, it } from 'vitest';
import { errorFromResponse, parseRetryAfter } from '../src/errors.js';
import { backoffDelay, linkSignals, sleep } from '../src/signals.js';
import { GptMarketError, isGptMarketError } from '../src/index.js';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('errors', () => {
  it('reads the API envelope: code, message, details, request id, Retry-After', async () => {
    const err = await errorFromResponse(
      json(429, { error: { code: 'rate_limited', message: 'slow down', request_id: 'req_abc12345' } }, { 'retry-after': '17' }),
    );
    expect(err).toBeInstanceOf(GptMarketError);
    expect(err).toBeInstanceOf(Error);
    expect(isGptMarketError(err)).toBe(true);
    expect(err).toMatchObject({
      name: 'GptMarketError',
      status: 429,
      code: 'rate_limited',
      message: 'slow down',
      requestId: 'req_abc12345',
      retryAfterSeconds: 17,
    });

    const invalid = await errorFromResponse(
      json(400, {
        error: { code: 'validation_failed', message: 'bad', details: [{ path: 'input.x', message: 'no' }, 'junk'], request_id: 'r' },
      }),
    );
    expect(invalid.issues).toEqual([{ path: 'input.x', message: 'no' }]);
    expect(invalid.retryAfterSeconds).toBeNull();
  });

  it('falls back on the status when the body is not the envelope (a proxy page), keeping x-request-id', async () => {
    const err = await errorFromResponse(
      new Response('<html>Bad gateway</html>', { status: 502, headers: { 'x-request-id': 'req_proxy' } }),
    );
    expect(err).toMatchObject({ status: 502, code: 'unavailable', requestId: 'req_proxy' });
    expect(err.details).toBe('<html>Bad gateway</html>');
    expect((await errorFromResponse(new Response(null, { status: 401 }))).code).toBe('unauthorized');
    expect((await errorFromResponse(new Response('{}', { status: 500 }))).code).toBe('internal');
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-21T12:00:00Z');
    expect(parseRetryAfter('5', now)).toBe(5);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Sat, 21 Nov 2026 12:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Sat, 21 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});

describe('timing helpers', () => {
  it('backoff grows exponentially with jitter, capped', () => {
    expect(backoffDelay(1, 1000, 30_000, () => 0)).toBe(500);
    expect(backoffDelay(1, 1000, 30_000, () => 1)).toBe(1000);
    expect(backoffDelay(3, 1000, 30_000, () => 1)).toBe(4000);
    expect(backoffDelay(20, 1000, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(20, 1000, 30_000, () => 0)).toBe(15_000);
  });

  it('linked signals follow their parents and the timeout, and sleep stops on abort', async () => {
    const parent = new AbortController();
    const linked = linkSignals([parent.signal, undefined]);
    const reason = new Error('stop');
    parent.abort(reason);
    expect(linked.signal.reason).toBe(reason);

    const timed = linkSignals([], 20, () => 'late');
    await sleep(60);
    expect(timed.signal.reason).toBe('late');

    const ctl = new AbortController();
    const started = Date.now();
    setTimeout(() => ctl.abort('now'), 20);
    await expect(sleep(10_000, ctl.signal)).rejects.toBe('now');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
