/** Fake GPTMarket API: POST /api/v1/scraping/pins with X-API-Key; answers `{metadata, data:{pins}}`. */
import { sendJson, startFake, type FakeServer } from './http.js';

export interface FakeGptMarket extends FakeServer {
  baseUrl: string;
  replies: Array<{ status: number; body?: unknown; raw?: string; headers?: Record<string, string>; delayMs?: number }>;
}

export const SAMPLE_PINS = [
  { id: 'p1', title: 'Cozy room', description: 'warm light', image_url: 'https://i.pinimg.com/736x/aa/bb/cc/one.jpg', aspect_ratio: '9:16', image_width: 736, image_height: 1308 },
  { id: 'p2', title: null, description: '', image_url: 'https://i.pinimg.com/736x/aa/bb/cc/two.jpg', aspect_ratio: '2:3', image_width: 736, image_height: 1104 },
  { id: 'p3', image_url: 'https://i.pinimg.com/736x/aa/bb/cc/three.jpg', aspect_ratio: '9:16' },
  { id: 'p4', title: 'no url', aspect_ratio: '9:16' },
  { id: 5, title: 'numeric id', image_url: 'https://i.pinimg.com/x/five.jpg', aspect_ratio: '9:16', image_width: 720.4, image_height: '1280' },
  { title: 'no id', image_url: 'https://i.pinimg.com/x/six.jpg', aspect_ratio: '9:16' },
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
    const q = (req.json as { search_query: string }).search_query;
    return sendJson(res, 200, { metadata: { total_pins: SAMPLE_PINS.length, search_query: q }, data: { pins: SAMPLE_PINS } });
  });
  return Object.assign(server, { baseUrl: `${server.url}/api`, replies });
}
