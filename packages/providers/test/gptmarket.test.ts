import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGptMarket, createProviderLimiter, ProviderError } from '../src/index.js';
import { startFakeGptMarket, type FakeGptMarket } from './fakes/gptmarket.js';

let fake: FakeGptMarket;
beforeAll(async () => {
  fake = await startFakeGptMarket();
});
afterAll(async () => {
  await fake?.close();
});
const client = (timeoutMs?: number) =>
  createGptMarket({ GPTMARKET_API_URL: fake.baseUrl, GPTMARKET_API_KEY: 'gm-test-key-0123456789' }, { limiter: createProviderLimiter('gptmarket', 4), ...(timeoutMs ? { timeoutMs } : {}) });
const fail = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e as ProviderError);

describe('GPTMarket Pinterest scraper', () => {
  it('sends the documented request and keeps only well-formed 9:16 pins', async () => {
    const r = await client().scrapePins({ search_query: '  cozy bedroom aesthetic ', pages: 2 });
    const req = fake.requests.at(-1)!;
    expect(req.json).toEqual({ search_query: 'cozy bedroom aesthetic', search_type: 'social_media', pages: 2 });
    expect(req.headers['content-type']).toBe('application/json');
    expect(r.query).toBe('cozy bedroom aesthetic');
    expect(r.total).toBe(7);
    expect(r.pins).toEqual([
      { id: 'p1', title: 'Cozy room', description: 'warm light', image_url: 'https://i.pinimg.com/736x/aa/bb/cc/one.jpg', aspect_ratio: '9:16', image_width: 736, image_height: 1308 },
      { id: 'p3', title: null, description: null, image_url: 'https://i.pinimg.com/736x/aa/bb/cc/three.jpg', aspect_ratio: '9:16', image_width: null, image_height: null },
      { id: '5', title: 'numeric id', description: null, image_url: 'https://i.pinimg.com/x/five.jpg', aspect_ratio: '9:16', image_width: 720, image_height: null },
    ]);
  });

  it('pages are clamped to 1–10', async () => {
    await client().scrapePins({ search_query: 'x', pages: 50 });
    expect((fake.requests.at(-1)!.json as { pages: number }).pages).toBe(10);
  });

  it('errors are typed: 401 auth, 400 bad request (not retried), 5xx and 429 retried, invalid JSON, timeout', async () => {
    fake.replies.push({ status: 401 });
    // A wrong key in the client: the fake answers 401 for real.
    const wrong = createGptMarket({ GPTMARKET_API_URL: fake.baseUrl, GPTMARKET_API_KEY: 'nope-nope-nope-nope' }, { limiter: createProviderLimiter('gptmarket', 1) });
    fake.replies.length = 0;
    const auth = await fail(wrong.scrapePins({ search_query: 'x' }));
    expect(auth).toMatchObject({ code: 'auth', retryable: false, status: 401 });

    let n = fake.requests.length;
    fake.replies.push({ status: 400, body: { error: 'search_query too long' } });
    const bad = await fail(client().scrapePins({ search_query: 'x' }));
    expect(bad).toMatchObject({ code: 'bad_request', retryable: false });
    expect(bad.message).toContain('search_query too long');
    expect(fake.requests.length - n).toBe(1);

    n = fake.requests.length;
    fake.replies.push({ status: 502 }, { status: 429, headers: { 'retry-after': '1' } });
    const t0 = Date.now();
    const ok = await client().scrapePins({ search_query: 'x' });
    expect(ok.pins.length).toBe(3);
    expect(fake.requests.length - n).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);

    fake.replies.push({ status: 200, raw: '<html>maintenance</html>' });
    expect(await fail(client().scrapePins({ search_query: 'x' }))).toMatchObject({ code: 'invalid_output', retryable: false });

    fake.replies.push({ status: 200, body: { metadata: {}, data: {} } });
    expect(await fail(client().scrapePins({ search_query: 'x' }))).toMatchObject({ code: 'invalid_output', retryable: false });

    fake.replies.push({ status: 200, delayMs: 1500 }, { status: 200, delayMs: 1500 }, { status: 200, delayMs: 1500 }, { status: 200, delayMs: 1500 });
    const slow = createGptMarket({ GPTMARKET_API_URL: fake.baseUrl, GPTMARKET_API_KEY: 'gm-test-key-0123456789' }, { limiter: createProviderLimiter('gptmarket', 4), timeoutMs: 200 });
    const timeout = await fail(slow.scrapePins({ search_query: 'x' }));
    expect(timeout).toMatchObject({ code: 'timeout', retryable: true });
    fake.replies.length = 0;
  }, 20_000);
});
