import { Redis } from 'ioredis';
import type { Logger } from '@gptmarket/runtime';

/** Where a Redis URL points, for people (never its password). */
export function redisLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 6379}`;
  } catch {
    return 'REDIS_URL';
  }
}

/**
 * The Redis client shared by the rate limits and the failed-login counters (REDIS_URL). Commands fail at once
 * while Redis is unreachable (no offline queue, one try), so a request never waits on it; the client keeps
 * reconnecting, and the log says when Redis is lost and when it is back.
 */
export function connectRedis(url: string, log: Logger): Redis {
  const where = redisLabel(url);
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log.error(
      `Redis at ${where} is unreachable: request rate limits are not enforced (they fail open) and failed logins are counted by each replica alone until it answers`,
      { error: err.message },
    );
  });
  redis.on('ready', () => {
    if (down) log.info(`Redis at ${where} answers again: rate limits and failed-login counters are shared`);
    down = false;
  });
  return redis;
}

/** Resolves true once the client is connected, false after `timeoutMs` (it keeps trying in the background). */
export async function redisReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
  });
}
