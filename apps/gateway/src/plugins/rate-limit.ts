import type { FastifyInstance } from 'fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import { ApiError } from '../errors.js';

export interface RateLimitOptions {
  windowMs: number;
  /** Requests per window of an API key without its own limit, and of basic-auth callers per address. */
  max: number;
  /** Requests per window of anonymous callers per address. */
  anonymousMax: number;
  /** Counts in Redis, shared by every gateway replica (REDIS_URL); in this process's memory when null. */
  redis: Redis | null;
}

/**
 * Requests per window: a key has its own budget (its limit or the default); basic-auth callers get the
 * authenticated budget per address; everyone else the anonymous one. /health and /ready are never limited.
 *
 * With Redis the counts are shared, so N per window is N across all replicas. While Redis does not answer the
 * limits fail open (`skipOnError`): they ration capacity, they do not guard anything, and an outage of Redis must
 * not take the API down with it; authentication still applies, and the failed-login lockout keeps counting per
 * replica (plugins/auth.ts). The gateway logs when Redis is lost and when it is back (services/redis.ts).
 */
export async function registerRateLimit(app: FastifyInstance, opts: RateLimitOptions): Promise<void> {
  await app.register(fastifyRateLimit, {
    global: true,
    timeWindow: opts.windowMs,
    ...(opts.redis ? { redis: opts.redis, nameSpace: 'gptmarket:rate:', skipOnError: true } : {}),
    max: (req) => req.auth?.rateLimit ?? (req.auth?.kind === 'key' || req.auth?.kind === 'basic' ? opts.max : opts.anonymousMax),
    keyGenerator: (req) => (req.auth?.apiKeyId ? `key:${req.auth.apiKeyId}` : `${req.auth?.kind === 'basic' ? 'basic' : 'ip'}:${req.ip}`),
    allowList: (req) => /^\/(health|ready)$/.test(req.url.split('?')[0]!),
    errorResponseBuilder: (_req, ctx) =>
      new ApiError(
        429,
        'rate_limited',
        `rate limit of ${ctx.max} requests per ${Math.round(ctx.ttl / 1000) || 1} s exceeded; retry after ${ctx.after}`,
      ),
  });
}
