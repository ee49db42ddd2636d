/**
 * Fake GPTMarket API: `POST /api/v1/scraping/pins` with `X-API-Key`. It answers as the live service does
 * (the shape the Python client `app/core/tools/gptmarket/pinterest.py` reads):
 * `{success: true, data: {data: {pins: [...]}, metadata: {total_pins, search_query}}}`.
 */
import { encodePng, renderPortrait } from '@gptmarket/offline';
import { sendJson, startFake, type FakeServer } from './http.js';

/** A pin's image as the scraper's image host would serve it: a 90×160 PNG portrait drawn from `seed`. */
export const pinImage = (seed: string): Buffer => encodePng(renderPortrait({ width: 90, height: 160, seed }));

export interface FakeGptMarket extends FakeServer {
  baseUrl: string;
  replies: Array<{ status: number; body?: unknown; raw?: string; headers?: Record<string, string>; delayMs?: number }>;
}

/** The body of a successful search: pins at `data.data.pins`, metadata at `data.metadata`. */
export const scraperAnswer = (pins: readonly unknown[], searchQuery: string, totalPins = pins.length) => ({
  success: true,
  data: { data: { pins }, metadata: { total_pins: totalPins, search_query: searchQuery } },
});

export const SAMPLE_PINS = [
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
    id: 'p2',
    title: null,
    description: '',
    image_url: 'https://i.pinimg.com/736x/aa/bb/cc/two.jpg',
    aspect_ratio: '2:3',
    image_width: 736,
    image_height: 1104,
  },
  { id: 'p3', image_url: 'https://i.pinimg.com/736x/aa/bb/cc/three.jpg', aspect_ratio: '9:16' },
  { id: 'p4', title: 'no url', aspect_ratio: '9:16' },
  {
    id: 5,
    title: 'numeric id',
    image_url: 'https://i.pinimg.com/x/five.jpg',
    aspect_ratio: '9:16',
    image_width: 720,
    image_height: '1280',
  },
  { title: 'no id', description: '', image_url: 'https://i.pinimg.com/x/six.jpg', aspect_ratio: '9:16' },
  {
    id: 'p7',
    title: 'fractional width',
    image_url: 'https://i.pinimg.com/x/seven.jpg',
    aspect_ratio: '9:16',
    image_width: 720.4,
    image_height: 1280,
  },
  { id: 'p8', title: 42, image_url: 'https://i.pinimg.com/x/eight.jpg', aspect_ratio: '9:16' },
  { id: 'p9', title: 'not http', image_url: 'local://pin/9', aspect_ratio: '9:16' },
  'garbage',
];

export async function startFakeGptMarket(key = 'gm-test-key-0123456789'): Promise<FakeGptMarket> {
  const replies: FakeGptMarket['replies'] = [];
  const server = await startFake(async (req, res) => {
    if (req.headers['x-api-key'] !== key) return sendJson(res, 401, { error: 'Invalid API key' });
    if (req.method !== 'POST' || req.path !== '/api/v1/scraping/pins') return sendJson(res, 404, { error: 'not found' });
    const r = replies.shift();
    if (r?.delayMs) await new Promise((ok) => setTimeout(ok, r.delayMs));
    if (r?.raw !== undefined) {
      res.writeHead(r.status, { 'content-type': 'text/html' });
      res.end(r.raw);
      return;
    }
    if (r) return sendJson(res, r.status, r.body ?? { error: `fake ${r.status}` }, r.headers);
    return sendJson(res, 200, scraperAnswer(SAMPLE_PINS, (req.json as { search_query: string }).search_query));
  });
  return Object.assign(server, { baseUrl: `${server.url}/api`, replies });
}
