import type { FastifyInstance, FastifyRequest } from 'fastify';
import { safeEqual } from '@gptmarket/providers';
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
  /** Failed attempts per IP per window before answering 429. */
  failuresMax: number;
  windowMs: number;
  isPublic: (req: FastifyRequest) => boolean;
}

/** Bearer API keys, optional basic auth, and the production rule (api.md "Authentication"). */
export function registerAuth(app: FastifyInstance, opts: AuthOptions): void {
  const failures = new Map<string, { count: number; resetAt: number }>();
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [ip, f] of failures) if (f.resetAt <= now) failures.delete(ip);
  }, opts.windowMs);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));

  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (req, reply) => {
    if (opts.isPublic(req)) return;
    const now = Date.now();
    const failed = failures.get(req.ip);
    if (failed && failed.resetAt > now && failed.count >= opts.failuresMax) {
      const retryAfter = Math.ceil((failed.resetAt - now) / 1000);
      reply.header('retry-after', String(retryAfter));
      throw new ApiError(429, 'rate_limited', `too many failed authentication attempts; retry in ${retryAfter} s`);
    }
    const header = req.headers.authorization ?? '';
    const fail = (message: string): never => {
      const entry = failed && failed.resetAt > now ? failed : { count: 0, resetAt: now + opts.windowMs };
      entry.count++;
      failures.set(req.ip, entry);
      reply.header('www-authenticate', opts.basic ? 'Bearer, Basic realm="gptmarket"' : 'Bearer');
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
