import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { desc, eq, isNull, and, sql } from 'drizzle-orm';
import { apiKeys, type ApiKeyRow, type Database } from '@gptmarket/db';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const KEY_PREFIX = 'gmk_';

function base62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += ALPHABET[b % 62];
    }
  }
  return out;
}

export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');
/** A hash no real key has, compared against when the presented key is unknown, so both paths cost the same. */
const DECOY = hashApiKey(`decoy-${randomBytes(16).toString('hex')}`);

export interface AuthenticatedKey {
  id: string;
  name: string;
  rateLimit: number | null;
}

/** API keys: created, listed and revoked by the gateway command; only hashes are stored. */
export class ApiKeyService {
  private activeCount: { value: number; at: number } | null = null;
  /** When each key's last_used_at was last written: at most once a minute, off the request path. */
  private readonly touched = new Map<string, number>();

  constructor(private readonly db: Database) {}

  async create(name: string, rateLimit: number | null = null): Promise<{ key: string; row: ApiKeyRow }> {
    if (!/^[\p{L}\p{N} _.-]{1,64}$/u.test(name)) throw new Error('the key name must be 1–64 letters, digits, spaces, _ . or -');
    if (rateLimit !== null && (!Number.isInteger(rateLimit) || rateLimit < 1 || rateLimit > 1_000_000)) {
      throw new Error('the rate limit must be a whole number of requests per window, 1 or more');
    }
    const key = `${KEY_PREFIX}${base62(40)}`;
    const [row] = await this.db
      .insert(apiKeys)
      .values({ id: `key_${base62(16)}`, name, prefix: key.slice(0, 10), hash: hashApiKey(key), rateLimit })
      .returning();
    this.activeCount = null;
    return { key, row: row! };
  }

  list(): Promise<ApiKeyRow[]> {
    return this.db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt));
  }

  async revoke(id: string): Promise<boolean> {
    const rows = await this.db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning();
    this.activeCount = null;
    return rows.length > 0;
  }

  /** Number of active keys, cached for a few seconds (decides whether the gateway runs open in development). */
  async countActive(): Promise<number> {
    if (this.activeCount && Date.now() - this.activeCount.at < 5_000) return this.activeCount.value;
    const [row] = await this.db.select({ n: sql<number>`count(*)::int` }).from(apiKeys).where(isNull(apiKeys.revokedAt));
    this.activeCount = { value: Number(row?.n ?? 0), at: Date.now() };
    return this.activeCount.value;
  }

  /**
   * Looks a presented key up by its hash and compares in constant time. Unknown and known keys take the same
   * path: one hash, one indexed lookup, one constant-time compare.
   */
  async authenticate(presented: string): Promise<AuthenticatedKey | null> {
    const hash = hashApiKey(presented);
    const [row] = await this.db.select().from(apiKeys).where(eq(apiKeys.hash, hash));
    const match = timingSafeEqual(Buffer.from(row?.hash ?? DECOY, 'hex'), Buffer.from(hash, 'hex'));
    if (!row || !match || row.revokedAt) return null;
    // Bookkeeping happens off the request path, at most once a minute per key, so it does not change timing.
    const now = Date.now();
    if ((this.touched.get(row.id) ?? 0) < now - 60_000) {
      this.touched.set(row.id, now);
      void this.db
        .update(apiKeys)
        .set({ lastUsedAt: new Date(now) })
        .where(eq(apiKeys.id, row.id))
        .catch(() => {});
    }
    return { id: row.id, name: row.name, rateLimit: row.rateLimit };
  }
}
