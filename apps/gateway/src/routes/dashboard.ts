import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
// `schema.hide` (kept out of /openapi.json) is @fastify/swagger's addition to Fastify's route schema.
import type {} from '@fastify/swagger';
import type { Logger } from '@gptmarket/runtime';
import type { Storage } from '@gptmarket/storage';
import { ApiError } from '../errors.js';
import { etagMatches, strongEtag } from '../etag.js';

/**
 * Where the built dashboard is: next to the gateway's package in the image (the Dockerfile copies it there), else
 * the workspace's `packages/dashboard/dist` (`pnpm -C packages/dashboard build`; the dev script and turbo build it).
 */
const gatewayRoot = resolve(import.meta.dirname, '../..');
export const DASHBOARD_DIRS = [join(gatewayRoot, 'dashboard'), resolve(gatewayRoot, '../../packages/dashboard/dist')];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.map']);

interface File {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
}

function load(path: string): File {
  const body = readFileSync(path);
  const ext = extname(path);
  return {
    body,
    gzip: COMPRESSIBLE.has(ext) ? gzipSync(body, { level: 9 }) : null,
    type: CONTENT_TYPES[ext] ?? 'application/octet-stream',
    etag: strongEtag(body),
  };
}

/** The page may load only what the gateway serves, and media from where the storage's URLs point. */
async function contentSecurityPolicy(storage: Storage): Promise<string> {
  let media = '';
  try {
    const origin = new URL(await storage.url('dashboard/csp-probe.png')).origin;
    if (/^https?:/.test(origin)) media = ` ${origin}`;
  } catch {
    /* no URL to make (e.g. presigning without credentials): media from the gateway only */
  }
  return [
    "default-src 'self'",
    `img-src 'self'${media}`,
    `media-src 'self'${media}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * `/dashboard`: the static dashboard (packages/dashboard). Hashed assets are cached for a year; the page itself is
 * revalidated on every load (`no-cache` with an ETag), and every other `/dashboard/*` path answers with it, so the
 * dashboard's own routes can be opened directly. No credentials are needed for the files: the page asks for them.
 */
export const dashboardRoutes: FastifyPluginAsync<{ storage: Storage; log: Logger }> = async (app, { storage, log }) => {
  const dir = DASHBOARD_DIRS.find((d) => existsSync(join(d, 'index.html')));
  const hidden = { schema: { hide: true } };
  if (!dir) {
    log.warn('the dashboard is not built: /dashboard answers 503 (run `pnpm -C packages/dashboard build`)', { looked_in: DASHBOARD_DIRS });
    const unbuilt = async () => {
      throw new ApiError(503, 'unavailable', 'the dashboard is not built on this gateway');
    };
    app.get('/dashboard', hidden, unbuilt);
    app.get('/dashboard/*', hidden, unbuilt);
    return;
  }
  const index = load(join(dir, 'index.html'));
  const assets = new Map<string, File>();
  const assetsDir = join(dir, 'assets');
  if (existsSync(assetsDir)) for (const name of readdirSync(assetsDir)) assets.set(name, load(join(assetsDir, name)));
  const csp = await contentSecurityPolicy(storage);

  const send = (req: FastifyRequest, reply: FastifyReply, file: File, cacheControl: string) => {
    reply
      .header('content-type', file.type)
      .header('cache-control', cacheControl)
      .header('etag', file.etag)
      .header('vary', 'accept-encoding')
      .header('content-security-policy', csp)
      .header('referrer-policy', 'same-origin')
      .header('x-frame-options', 'DENY');
    if (etagMatches(req.headers['if-none-match'], file.etag)) return reply.code(304).send();
    if (file.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      return reply.header('content-encoding', 'gzip').send(file.gzip);
    }
    return reply.send(file.body);
  };
  const page = async (req: FastifyRequest, reply: FastifyReply) => send(req, reply, index, 'no-cache');

  app.get('/dashboard', hidden, page);
  app.get<{ Params: { '*': string } }>('/dashboard/*', hidden, async (req, reply) => {
    const path = req.params['*'];
    if (!path.startsWith('assets/')) return page(req, reply);
    const file = assets.get(path.slice('assets/'.length));
    if (!file) throw new ApiError(404, 'not_found', 'no such dashboard file');
    return send(req, reply, file, 'public, max-age=31536000, immutable');
  });
};
