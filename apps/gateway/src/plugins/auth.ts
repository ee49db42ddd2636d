import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { safeEqual } from '@gptmarket/runtime';
import { ApiError } from '../errors.js';
import type { ApiKeyService } from '../services/api-keys.js';

export interface RequestAuth {
  kind: 'key' | 'basic' | 'open';
  apiKeyId: string | null;
  rateLimit: number | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: RequestAuth | null;
  }
}

export interface AuthOptions {
  keys: ApiKeyService;
  basic: { user: string; password: string } | null;
  production: boolean;
  /**
   * Failed attempts per client address and presented credential per window before that pair gets 429s instead
   * of 401s; null turns the lockout off (RATE_LIMIT_ENABLED=false).
   */
  failuresMax: number | null;
  windowMs: number;
  isPublic: (req: FastifyRequest) => boolean;
}

/** Failure counters kept at once; past this the oldest go first (a flood of distinct guesses cannot grow memory). */
const MAX_TRACKED_FAILURES = 10_000;

/**
 * Bearer API keys, optional basic auth, and the production rule (docs/api.md "Authentication").
 *
 * Credentials are checked first, so valid ones always pass. Failures are counted per client address and presented
 * credential: behind a proxy that gives every client one address, someone sending bad keys locks out only those
 * bad keys from that address, never a valid key, a correct password, or an open API's anonymous callers.
 */
export function registerAuth(app: FastifyInstance, opts: AuthOptions): void {
  const failures = new Map<string, { count: number; resetAt: number }>();
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [pair, f] of failures) if (f.resetAt <= now) failures.delete(pair);
  }, opts.windowMs);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));

  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (req, reply) => {
    if (opts.isPublic(req)) return;
    const header = req.headers.authorization ?? '';
    const fail = (message: string): never => {
      reply.header('www-authenticate', opts.basic ? 'Bearer, Basic realm="gptmarket"' : 'Bearer');
      if (opts.failuresMax === null || !header) throw new ApiError(401, 'unauthorized', message);
      const now = Date.now();
      const pair = `${req.ip} ${createHash('sha256').update(header).digest('base64url')}`;
      let entry = failures.get(pair);
      if (!entry || entry.resetAt <= now) {
        failures.delete(pair);
        if (failures.size >= MAX_TRACKED_FAILURES) failures.delete(failures.keys().next().value!);
        entry = { count: 0, resetAt: now + opts.windowMs };
        failures.set(pair, entry);
      }
      entry.count++;
      if (entry.count > opts.failuresMax) {
        const retryAfter = Math.ceil((entry.resetAt - now) / 1000);
        reply.header('retry-after', String(retryAfter));
        throw new ApiError(429, 'rate_limited', `too many failed attempts with these credentials; retry in ${retryAfter} s`);
      }
      throw new ApiError(401, 'unauthorized', message);
    };
    const bearer = /^Bearer\s+(\S{1,200})$/i.exec(header);
    if (bearer) {
      const key = await opts.keys.authenticate(bearer[1]!);
      if (!key) return fail('the API key is not valid');
      req.auth = { kind: 'key', apiKeyId: key.id, rateLimit: key.rateLimit };
      return;
    }
    const basic = /^Basic\s+([A-Za-z0-9+/=]{1,400})$/i.exec(header);
    if (basic && opts.basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const sep = decoded.indexOf(':');
      const userOk = safeEqual(sep >= 0 ? decoded.slice(0, sep) : decoded, opts.basic.user);
      const passOk = safeEqual(sep >= 0 ? decoded.slice(sep + 1) : '', opts.basic.password);
      if (!(userOk && passOk)) return fail('the username or password is not valid');
      req.auth = { kind: 'basic', apiKeyId: null, rateLimit: null };
      return;
    }
    if (header) return fail('unsupported Authorization header: use "Bearer <api key>"');
    // No credentials: open only outside production while no auth method is configured.
    if (!opts.production && !opts.basic && (await opts.keys.countActive()) === 0) {
      req.auth = { kind: 'open', apiKeyId: null, rateLimit: null };
      return;
    }
    fail('authentication required: send "Authorization: Bearer <api key>"');
  });
}
