import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { safeEqual } from '@gptmarket/runtime';
import { ApiError } from '../errors.js';
import type { ApiKeyService } from '../services/api-keys.js';
import type { Caller } from '../services/generation-records.js';

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

/** Whose generations a request sees: an API key its own; basic auth and open mode all of them. */
export const callerOf = (req: FastifyRequest): Caller => ({ apiKeyId: req.auth?.apiKeyId ?? null });

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
/** Failed attempts per address per window (times the per-credential limit), any credentials, before unproven passwords stop being checked. */
const ADDRESS_BUDGET_FACTOR = 10;

/** A bounded map of counters that reset after a window. */
class WindowCounters {
  private readonly entries = new Map<string, { count: number; resetAt: number }>();
  constructor(private readonly windowMs: number) {}
  /** Adds one to `key`'s count in the current window and returns the entry. */
  hit(key: string, now: number): { count: number; resetAt: number } {
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
  get(key: string, now: number): { count: number; resetAt: number } | undefined {
    const entry = this.entries.get(key);
    return entry && entry.resetAt > now ? entry : undefined;
  }
  sweep(now: number): void {
    for (const [key, entry] of this.entries) if (entry.resetAt <= now) this.entries.delete(key);
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
  const failures = new WindowCounters(opts.windowMs);
  const addressFailures = new WindowCounters(opts.windowMs);
  /** `${address} ${credential hash}` of basic-auth successes, so a correct password keeps passing during an attack. */
  const provenPasswords = new WindowCounters(opts.windowMs);
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
  app.addHook('onRequest', async (req, reply) => {
    if (opts.isPublic(req)) return;
    const header = req.headers.authorization ?? '';
    const pair = () => `${req.ip} ${createHash('sha256').update(header).digest('base64url')}`;
    const fail = (message: string): never => {
      reply.header('www-authenticate', opts.basic ? 'Bearer, Basic realm="gptmarket"' : 'Bearer');
      if (opts.failuresMax === null || !header) throw new ApiError(401, 'unauthorized', message);
      const now = Date.now();
      addressFailures.hit(req.ip, now);
      const entry = failures.hit(pair(), now);
      if (entry.count > opts.failuresMax) rateLimited(reply, entry.resetAt, now, 'with these credentials');
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
      if (opts.failuresMax !== null) {
        const now = Date.now();
        const guessing = addressFailures.get(req.ip, now);
        if (guessing && guessing.count >= opts.failuresMax * ADDRESS_BUDGET_FACTOR && !provenPasswords.get(pair(), now)) {
          rateLimited(reply, guessing.resetAt, now, 'from this address');
        }
      }
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const sep = decoded.indexOf(':');
      const userOk = safeEqual(sep >= 0 ? decoded.slice(0, sep) : decoded, opts.basic.user);
      const passOk = safeEqual(sep >= 0 ? decoded.slice(sep + 1) : '', opts.basic.password);
      if (!(userOk && passOk)) return fail('the username or password is not valid');
      if (opts.failuresMax !== null) provenPasswords.hit(pair(), Date.now());
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
