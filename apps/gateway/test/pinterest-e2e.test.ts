/**
 * SlideshowsPinterestWorkflow through the gateway, as deployed (the whole stack as processes), against a
 * GPTMarket scraper fake on loopback that answers in the live service's shape, with pins whose images a
 * loopback server serves (allowed by PROVIDER_DOWNLOAD_ALLOWED_HOSTS).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Generation } from '@gptmarket/contracts';
import { pinImage, scraperAnswer, startFakeGptMarket, type FakeGptMarket } from '../../../packages/providers/test/fakes/gptmarket.js';
import { api, startStack, type Stack } from './helpers.js';

const GM_KEY = 'gm-e2e-key-0123456789';
let stack: Stack;
let gm: FakeGptMarket;
let images: Server;
let imgBase: string;
const served = new Map<string, Buffer>();
const fetched: string[] = [];
/** Pin id → the image path it points at. */
const sourceOf = new Map<string, string>();

beforeAll(async () => {
  images = createServer((req, res) => {
    fetched.push(req.url ?? '');
    const body = served.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((ok) => images.listen(0, '127.0.0.1', ok));
  const imgPort = (images.address() as AddressInfo).port;
  imgBase = `http://127.0.0.1:${imgPort}`;
  gm = await startFakeGptMarket(GM_KEY);
  stack = await startStack('gateway_pinterest', {
    GPTMARKET_API_URL: gm.baseUrl,
    GPTMARKET_API_KEY: GM_KEY,
    PROVIDER_DOWNLOAD_ALLOWED_HOSTS: `127.0.0.1:${imgPort}`,
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await gm?.close();
  await new Promise<void>((ok) => (images ? images.close(() => ok()) : ok()));
});

function pinFor(path: string, extra: Record<string, unknown> = {}) {
  const pin = {
    id: `pin${path.replace(/\W+/g, '-')}`,
    title: `Calm lake ${path}`,
    description: 'Morning mist over the water',
    image_url: `${imgBase}${path}`,
    aspect_ratio: '9:16',
    image_width: 90,
    image_height: 160,
    ...extra,
  };
  sourceOf.set(pin.id, path);
  return pin;
}

describe('SlideshowsPinterestWorkflow through the gateway', () => {
  it('scrapes through the GPTMarket API shape, selects and saves the images in our storage', async () => {
    // Five answers (one per query; the offline LLM writes the queries): three pins each, plus a landscape pin
    // the scraper client drops and a URL repeated in a second answer.
    for (let q = 1; q <= 5; q++) {
      const pins = ['a', 'b', 'c'].map((n) => {
        const path = `/img/q${q}/${n}.png`;
        served.set(path, pinImage(path));
        return pinFor(path);
      });
      if (q === 1) pins.push(pinFor('/img/q1/landscape.png', { aspect_ratio: '2:3', image_width: 160, image_height: 90 }));
      if (q === 2) pins.push(pinFor('/img/q1/a.png', { id: 'repeated' }));
      gm.replies.push({ status: 200, body: scraperAnswer(pins, `query ${q}`, 50) });
    }

    const created = await api(stack, 'POST', '/v1/generations', { type: 'slideshows_pinterest', input: { prompt: 'misty lake at dawn' } });
    expect(created.status, created.text).toBe(202);
    const gen = created.json as Generation;
    expect(gen.workflow_type).toBe('SlideshowsPinterestWorkflow');

    const deadline = Date.now() + 150_000;
    let done: Generation;
    for (;;) {
      const { status, json } = await api(stack, 'GET', `/v1/generations/${gen.id}`);
      expect(status).toBe(200);
      done = json as Generation;
      if (['completed', 'failed', 'cancelled'].includes(done.status)) break;
      if (Date.now() > deadline) throw new Error(`generation ${gen.id} still ${done.status}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(done.status, JSON.stringify(done.error)).toBe('completed');

    // Five searches reached the scraper, each as the Python client sent it.
    const scrapes = gm.requests.filter((r) => r.path === '/api/v1/scraping/pins');
    expect(scrapes).toHaveLength(5);
    for (const r of scrapes) {
      expect(r.headers['x-api-key']).toBe(GM_KEY);
      expect(r.json).toMatchObject({ search_type: 'social_media', pages: 2 });
    }

    const out = done.output as {
      images: Array<{ id: string; image_url: string; aspect_ratio: string; image_width: number }>;
      queries_used: string[];
      total_scraped: number;
      failed_uploads: unknown[];
      warnings: string[];
    };
    expect(out.queries_used).toHaveLength(5);
    expect(out.total_scraped).toBe(16); // 15 pins + the repeated URL; the 2:3 pin never left the client
    expect(out.failed_uploads).toEqual([]);
    expect(out.warnings).toEqual([]);
    expect(out.images).toHaveLength(15);
    expect(fetched).not.toContain('/img/q1/landscape.png');

    // Every image is in our storage, served by the gateway, byte for byte the scraped one.
    for (const img of out.images) {
      expect(img.image_url.startsWith(`${stack.baseUrl}/media/pinterest/images/`), img.image_url).toBe(true);
      expect(img).toMatchObject({ aspect_ratio: '9:16', image_width: 90 });
      const res = await fetch(img.image_url);
      expect(res.status).toBe(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      const source = sourceOf.get(img.id)!;
      expect(bytes.equals(served.get(source)!), `${img.id} ← ${source}`).toBe(true);
    }
    expect(new Set(out.images.map((i) => i.image_url)).size).toBe(15);
  }, 200_000);
});
