import { createHmac, hash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { safeEqual } from '@gptmarket/runtime';
import { ApiError } from '../errors.js';
import type { ApiKeyService } from '../services/api-keys.js';
import type { Caller } from '../services/generation-records.js';

export interface RequestAuth {
  kind: 'key' | 'basic' | 'open';
  apiKeyId: string | null;
  rateLimit: number | null;
  /** The key has a budget (false for basic auth and open mode). */
  budgeted: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: RequestAuth | null;
  }
}

/** Whose generations a request sees: an API key its own; basic auth and open mode all of them. */
export const callerOf = (req: FastifyRequest): Caller => ({ apiKeyId: req.auth?.apiKeyId ?? null, budgeted: req.auth?.budgeted });

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
  /** Shares the counters with every gateway replica (REDIS_URL); this process's memory when null. */
  redis: Redis | null;
  /** A server secret the Redis key names are derived from (so they reveal nothing of the credentials). */
  counterSecret: string;
}

/** Failure counters kept at once; past this the oldest go first (a flood of distinct guesses cannot grow memory). */
const MAX_TRACKED_FAILURES = 10_000;
/** Failed attempts per address per window (times the per-credential limit), any credentials, before unproven passwords stop being checked. */
const ADDRESS_BUDGET_FACTOR = 10;

interface Window {
  count: number;
  resetAt: number;
}

/** Counters that reset after a window: this process's own, or shared by every replica through Redis. */
interface Counters {
  /** Adds one to `key`'s count in the current window and returns the window. */
  hit(key: string, now: number): Promise<Window>;
  get(key: string, now: number): Promise<Window | undefined>;
  sweep(now: number): void;
}

/** A bounded map of counters in this process's memory. */
class MemoryCounters implements Counters {
  private readonly entries = new Map<string, Window>();
  constructor(private readonly windowMs: number) {}
  async hit(key: string, now: number): Promise<Window> {
    let entry = this.entries.get(key);
    if (!entry || entry.resetAt <= now) {
      this.entries.delete(key);
      if (this.entries.size >= MAX_TRACKED_FAILURES) this.entries.delete(this.entries.keys().next().value!);
      entry = { count: 0, resetAt: now + this.windowMs };
      this.entries.set(key, entry);
    }
    entry.count++;
    return entry;
  }
  async get(key: string, now: number): Promise<Window | undefined> {
    const entry = this.entries.get(key);
    return entry && entry.resetAt > now ? entry : undefined;
  }
  sweep(now: number): void {
    for (const [key, entry] of this.entries) if (entry.resetAt <= now) this.entries.delete(key);
  }
}

/** INCR, starting the window's expiry on the first hit; answers the count and the milliseconds left. */
const HIT_SCRIPT = `local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {c, redis.call('PTTL', KEYS[1])}`;

/**
 * Counters in Redis, shared by every gateway replica; keys expire with their window. Key names are HMACs of the
 * counter's key (which holds a hash of the presented credential) under a key derived from a server secret, so
 * Redis holds nothing a password could be guessed from. While Redis does not answer, this process's own counters
 * stand in: the lockout never turns off, it only counts per replica until Redis is back.
 */
class RedisCounters implements Counters {
  constructor(
    private readonly redis: Redis,
    private readonly name: string,
    private readonly hashKey: Buffer,
    private readonly windowMs: number,
    private readonly local: MemoryCounters,
  ) {}
  private key(key: string): string {
    return `gptmarket:auth:${this.name}:${createHmac('sha256', this.hashKey).update(key).digest('base64url')}`;
  }
  async hit(key: string, now: number): Promise<Window> {
    try {
      const [count, ttl] = (await this.redis.eval(HIT_SCRIPT, 1, this.key(key), this.windowMs)) as [number, number];
      return { count, resetAt: now + Math.max(ttl, 0) };
    } catch {
      return this.local.hit(key, now);
    }
  }
  async get(key: string, now: number): Promise<Window | undefined> {
    try {
      const k = this.key(key);
      const [count, ttl] = await Promise.all([this.redis.get(k), this.redis.pttl(k)]);
      return count !== null && ttl > 0 ? { count: Number(count), resetAt: now + ttl } : undefined;
    } catch {
      return this.local.get(key, now);
    }
  }
  sweep(now: number): void {
    this.local.sweep(now);
  }
}

/**
 * Bearer API keys, optional basic auth, and the production rule (docs/api.md "Authentication").
 *
 * Credentials are checked first, so valid ones always pass. Failures are counted per client address and presented
 * credential: behind a proxy that gives every client one address, someone sending bad keys locks out only those
 * bad keys from that address, never a valid key, a correct password, or an open API's anonymous callers.
 *
 * Guessing many different credentials is bounded too: an address with ten times that many failures in a
 * window gets 429 for basic-auth passwords that have not succeeded from it in the last window, without their being
 * checked (a password can be weak). API keys are 256-bit random values that cannot be guessed, so a valid key
 * always passes.
 */
export function registerAuth(app: FastifyInstance, opts: AuthOptions): void {
  const hashKey = createHmac('sha256', opts.counterSecret).update('gptmarket auth counters').digest();
  const counters = (name: string): Counters => {
    const local = new MemoryCounters(opts.windowMs);
    return opts.redis ? new RedisCounters(opts.redis, name, hashKey, opts.windowMs, local) : local;
  };
  const failures = counters('failures');
  const addressFailures = counters('address');
  /** `${address} ${credential hash}` of basic-auth successes, so a correct password keeps passing during an attack. */
  const provenPasswords = counters('proven');
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const counters of [failures, addressFailures, provenPasswords]) counters.sweep(now);
  }, opts.windowMs);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));

  const rateLimited = (reply: FastifyReply, resetAt: number, now: number, what: string): never => {
    const retryAfter = Math.ceil((resetAt - now) / 1000);
    reply.header('retry-after', String(retryAfter));
    throw new ApiError(429, 'rate_limited', `too many failed attempts ${what}; retry in ${retryAfter} s`);
  };

  app.decorateRequest('auth', null);
  // Synchronous while it needs nothing from outside (a public path, a key that authenticated a moment ago).
  app.addHook('onRequest', (req, reply, done) => {
    if (opts.isPublic(req)) return done();
    const bearer = BEARER.exec(req.headers.authorization ?? '');
    const recent = bearer ? opts.keys.recent(bearer[1]!) : undefined;
    if (recent) {
      req.auth = { kind: 'key', apiKeyId: recent.id, rateLimit: recent.rateLimit, budgeted: recent.budgeted };
      return done();
    }
    authenticate(req, reply).then(() => done(), done);
  });

  async function authenticate(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = req.headers.authorization ?? '';
    const pair = () => `${req.ip} ${hash('sha256', header, 'base64url')}`;
    const fail = async (message: string): Promise<never> => {
      reply.header('www-authenticate', opts.basic ? 'Bearer, Basic realm="gptmarket"' : 'Bearer');
      if (opts.failuresMax === null || !header) throw new ApiError(401, 'unauthorized', message);
      const now = Date.now();
      const [, entry] = await Promise.all([addressFailures.hit(req.ip, now), failures.hit(pair(), now)]);
      if (entry.count > opts.failuresMax) rateLimited(reply, entry.resetAt, now, 'with these credentials');
      throw new ApiError(401, 'unauthorized', message);
    };
    const bearer = BEARER.exec(header);
    if (bearer) {
      const key = await opts.keys.authenticate(bearer[1]!);
      if (!key) return fail('the API key is not valid');
      req.auth = { kind: 'key', apiKeyId: key.id, rateLimit: key.rateLimit, budgeted: key.budgeted };
      return;
    }
    const basic = /^Basic\s+([A-Za-z0-9+/=]{1,400})$/i.exec(header);
    if (basic && opts.basic) {
      if (opts.failuresMax !== null) {
        const now = Date.now();
        const guessing = await addressFailures.get(req.ip, now);
        if (guessing && guessing.count >= opts.failuresMax * ADDRESS_BUDGET_FACTOR && !(await provenPasswords.get(pair(), now))) {
          rateLimited(reply, guessing.resetAt, now, 'from this address');
        }
      }
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const sep = decoded.indexOf(':');
      const userOk = safeEqual(sep >= 0 ? decoded.slice(0, sep) : decoded, opts.basic.user);
      const passOk = safeEqual(sep >= 0 ? decoded.slice(sep + 1) : '', opts.basic.password);
      if (!(userOk && passOk)) return fail('the username or password is not valid');
      if (opts.failuresMax !== null) await provenPasswords.hit(pair(), Date.now());
      req.auth = { kind: 'basic', apiKeyId: null, rateLimit: null, budgeted: false };
      return;
    }
    if (header) return fail('unsupported Authorization header: use "Bearer <api key>"');
    // No credentials: open only outside production while no auth method is configured.
    if (!opts.production && !opts.basic && (await opts.keys.countActive()) === 0) {
      req.auth = { kind: 'open', apiKeyId: null, rateLimit: null, budgeted: false };
      return;
    }
    return fail('authentication required: send "Authorization: Bearer <api key>"');
  }
}

const BEARER = /^Bearer\s+(\S{1,200})$/i;
