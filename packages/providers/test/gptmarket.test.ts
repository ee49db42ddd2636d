import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGptMarket, createProviderLimiter, ProviderError } from '../src/index.js';
import { SAMPLE_PINS, scraperAnswer, startFakeGptMarket, type FakeGptMarket } from './fakes/gptmarket.js';

let fake: FakeGptMarket;
beforeAll(async () => {
  fake = await startFakeGptMarket();
});
afterAll(async () => {
  await fake?.close();
});
const client = (timeoutMs?: number) =>
  createGptMarket(
    { GPTMARKET_API_URL: fake.baseUrl, GPTMARKET_API_KEY: 'gm-test-key-0123456789' },
    { limiter: createProviderLimiter('gptmarket', 4), ...(timeoutMs ? { timeoutMs } : {}) },
  );
const fail = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as ProviderError,
  );

describe('GPTMarket Pinterest scraper (the Python client app/core/tools/gptmarket/pinterest.py)', () => {
  it('sends the documented request, reads pins at data.data.pins and keeps the 9:16 pins the Python tool kept', async () => {
    const r = await client().scrapePins({ search_query: '  cozy bedroom aesthetic ', pages: 2 });
    const req = fake.requests.at(-1)!;
    expect(req.json).toEqual({ search_query: 'cozy bedroom aesthetic', search_type: 'social_media', pages: 2 });
    expect(req.headers['content-type']).toBe('application/json');
    expect(r.query).toBe('cozy bedroom aesthetic');
    // metadata.total_pins, as the service counted them (before the 9:16 filter).
    expect(r.total).toBe(SAMPLE_PINS.length);
    expect(r.pins).toEqual([
      {
        id: 'p1',
        title: 'Cozy room',
        description: 'warm light',
        image_url: 'https://i.pinimg.com/736x/aa/bb/cc/one.jpg',
        aspect_ratio: '9:16',
        image_width: 736,
        image_height: 1308,
      },
      {
        id: 'p3',
        title: null,
        description: null,
        image_url: 'https://i.pinimg.com/736x/aa/bb/cc/three.jpg',
        aspect_ratio: '9:16',
        image_width: null,
        image_height: null,
      },
      // A numeric id becomes its string; a string of digits is a size (pydantic's `int | None`).
      {
        id: '5',
        title: 'numeric id',
        description: null,
        image_url: 'https://i.pinimg.com/x/five.jpg',
        aspect_ratio: '9:16',
        image_width: 720,
        image_height: 1280,
      },
      // No id: kept with id "" (Python: `str(pin.get('id', ''))`), so it scores without the id bonus.
      {
        id: '',
        title: 'no id',
        description: '',
        image_url: 'https://i.pinimg.com/x/six.jpg',
        aspect_ratio: '9:16',
        image_width: null,
        image_height: null,
      },
    ]);
    // Dropped: 2:3, no URL, a fractional width, a numeric title, a non-http URL, a non-object.
  });

  it('takes total and query from data.metadata, else the count and the asked query', async () => {
    fake.replies.push({ status: 200, body: scraperAnswer(SAMPLE_PINS.slice(0, 1), 'cozy bedroom', 250) });
    expect(await client().scrapePins({ search_query: 'Cozy Bedroom' })).toMatchObject({ total: 250, query: 'cozy bedroom' });
    fake.replies.push({ status: 200, body: { success: true, data: { data: { pins: SAMPLE_PINS.slice(0, 1) } } } });
    const r = await client().scrapePins({ search_query: 'plain' });
    expect(r).toMatchObject({ total: 1, query: 'plain' });
    expect(r.pins.map((p) => p.id)).toEqual(['p1']);
  });

  it('pages are clamped to 1–10', async () => {
    await client().scrapePins({ search_query: 'x', pages: 50 });
    expect((fake.requests.at(-1)!.json as { pages: number }).pages).toBe(10);
  });

  it('errors are typed: 401 auth, 400 bad request (not retried), 5xx and 429 retried, invalid JSON, timeout', async () => {
    fake.replies.push({ status: 401 });
    // A wrong key in the client: the fake answers 401 for real.
    const wrong = createGptMarket(
      { GPTMARKET_API_URL: fake.baseUrl, GPTMARKET_API_KEY: 'nope-nope-nope-nope' },
      { limiter: createProviderLimiter('gptmarket', 1) },
    );
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
    expect(ok.pins.length).toBe(4);
    expect(fake.requests.length - n).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);

    fake.replies.push({ status: 200, raw: '<html>maintenance</html>' });
    expect(await fail(client().scrapePins({ search_query: 'x' }))).toMatchObject({ code: 'invalid_output', retryable: false });

    fake.replies.push({ status: 200, body: { success: true, data: { data: {}, metadata: {} } } });
    expect(await fail(client().scrapePins({ search_query: 'x' }))).toMatchObject({ code: 'invalid_output', retryable: false });

    // Pins one level up (`data.pins`) are not where the service puts them: a clear error, not an empty result.
    fake.replies.push({ status: 200, body: { metadata: { total_pins: 1, search_query: 'x' }, data: { pins: SAMPLE_PINS.slice(0, 1) } } });
    const wrongShape = await fail(client().scrapePins({ search_query: 'x' }));
    expect(wrongShape).toMatchObject({ code: 'invalid_output', retryable: false });
    expect(wrongShape.message).toBe('gptmarket: the answer has no data.data.pins list');

    fake.replies.push({ status: 200, body: { success: false, error: 'quota exceeded' } });
    const refused = await fail(client().scrapePins({ search_query: 'x' }));
    expect(refused).toMatchObject({ code: 'failed', retryable: false });
    expect(refused.message).toBe('gptmarket: the API answered success:false: quota exceeded');
    expect((await client().scrapePins({ search_query: 'after' })).pins).toHaveLength(4);

    fake.replies.push(
      { status: 200, delayMs: 1500 },
      { status: 200, delayMs: 1500 },
      { status: 200, delayMs: 1500 },
      { status: 200, delayMs: 1500 },
    );
    const slow = createGptMarket(
      { GPTMARKET_API_URL: fake.baseUrl, GPTMARKET_API_KEY: 'gm-test-key-0123456789' },
      { limiter: createProviderLimiter('gptmarket', 4), timeoutMs: 200 },
    );
    const timeout = await fail(slow.scrapePins({ search_query: 'x' }));
    expect(timeout).toMatchObject({ code: 'timeout', retryable: true });
    fake.replies.length = 0;
  }, 20_000);
});
