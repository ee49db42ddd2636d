import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { desc, eq, isNull, and, gte, sql } from 'drizzle-orm';
import { ApiKeyName, ApiKeyRateLimit, BudgetUsd, fromMicros, toMicros } from '@gptmarket/contracts';
import type { z } from 'zod';
import { apiKeys, generations, type ApiKeyRow, type Database } from '@gptmarket/db';
import { ApiError } from '../errors.js';

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

/** SHA-256 of a key, hex (the one-shot `hash`: every authenticated request computes it). */
export const hashApiKey = (key: string): string => hash('sha256', key, 'hex');
/** A hash no real key has, compared against when the presented key is unknown, so both paths cost the same. */
const DECOY = hashApiKey(`decoy-${randomBytes(16).toString('hex')}`);

/** A key's spending limits in USD per UTC day and UTC calendar month; null (or absent) means none. */
export interface KeyBudgets {
  dailyUsd?: number | null;
  monthlyUsd?: number | null;
}

/** Checks a value with its contract (packages/contracts, the admin API's own schemas); throws "`what` <message>". */
function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${what} ${parsed.error.issues[0]?.message ?? 'is not valid'}`);
  return parsed.data;
}

function budgetMicros(usd: number | null | undefined, what: string): number | null {
  if (usd === null || usd === undefined) return null;
  return toMicros(check(BudgetUsd, usd, `the ${what} budget`));
}

/** The budget windows `now` falls in: the UTC day and the UTC calendar month, each with the instant it resets. */
export function budgetWindows(now: Date): { day: { start: Date; resetsAt: Date }; month: { start: Date; resetsAt: Date } } {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  return {
    day: { start: new Date(Date.UTC(y, m, d)), resetsAt: new Date(Date.UTC(y, m, d + 1)) },
    month: { start: new Date(Date.UTC(y, m, 1)), resetsAt: new Date(Date.UTC(y, m + 1, 1)) },
  };
}

/** What a key has spent in micro-USD since `since`: its generations' costs (actual once ended, else the estimate). */
async function spentSince(db: Pick<Database, 'select'>, keyId: string, since: Date): Promise<number> {
  const [row] = await db
    .select({ micros: sql<string>`coalesce(sum(${generations.costMicros}), 0)` })
    .from(generations)
    .where(and(eq(generations.apiKeyId, keyId), gte(generations.createdAt, since)));
  return Number(row?.micros ?? 0);
}

/** One budget of a key and what is left of it. */
export interface BudgetState {
  window: 'day' | 'month';
  limitMicros: number;
  spentMicros: number;
  resetsAt: Date;
}

/** A key's budgets and spending now (none when it has no budget). */
export async function budgetStates(
  db: Pick<Database, 'select'>,
  key: Pick<ApiKeyRow, 'id' | 'dailyBudgetMicros' | 'monthlyBudgetMicros'>,
  now: Date,
): Promise<BudgetState[]> {
  const windows = budgetWindows(now);
  const states: BudgetState[] = [];
  for (const [window, limit] of [
    ['day', key.dailyBudgetMicros],
    ['month', key.monthlyBudgetMicros],
  ] as const) {
    if (limit === null) continue;
    states.push({
      window,
      limitMicros: limit,
      spentMicros: await spentSince(db, key.id, windows[window].start),
      resetsAt: windows[window].resetsAt,
    });
  }
  return states;
}

/**
 * Refuses (402 `budget_exceeded`) a request whose estimate is more than what is left of one of the key's budgets.
 * Call it in the transaction that records the generation: it locks the key's row, so requests of one key are checked
 * and recorded one after the other and two cannot both pass when together they exceed a budget.
 */
export async function assertWithinBudget(
  tx: Pick<Database, 'select'>,
  keyId: string,
  estimateMicros: number,
  now = new Date(),
): Promise<void> {
  const [key] = await tx
    .select({ id: apiKeys.id, dailyBudgetMicros: apiKeys.dailyBudgetMicros, monthlyBudgetMicros: apiKeys.monthlyBudgetMicros })
    .from(apiKeys)
    .where(eq(apiKeys.id, keyId))
    .for('update');
  if (!key || (key.dailyBudgetMicros === null && key.monthlyBudgetMicros === null)) return;
  for (const b of await budgetStates(tx, key, now)) {
    const remaining = Math.max(0, b.limitMicros - b.spentMicros);
    if (estimateMicros > remaining) {
      const label = b.window === 'day' ? 'daily' : 'monthly';
      throw new ApiError(
        402,
        'budget_exceeded',
        `this request is estimated at ${fromMicros(estimateMicros)} USD, more than the ${fromMicros(remaining)} USD left of this key's ${label} budget; it resets at ${b.resetsAt.toISOString()} (UTC ${b.window === 'day' ? 'midnight' : 'month start'})`,
        {
          window: b.window,
          currency: 'USD',
          limit: fromMicros(b.limitMicros),
          spent: fromMicros(b.spentMicros),
          remaining: fromMicros(remaining),
          estimated: fromMicros(estimateMicros),
          resets_at: b.resetsAt.toISOString(),
        },
      );
    }
  }
}

export interface AuthenticatedKey {
  id: string;
  name: string;
  rateLimit: number | null;
  /** Whether the key has a daily or monthly budget. */
  budgeted: boolean;
}

/**
 * How long a key that authenticated is trusted without reading its row again: a revocation or a budget change made
 * elsewhere (another replica, the gateway command) takes effect within this time; made here, at once.
 */
export const KEY_CACHE_MS = 1_000;
const KEY_CACHE_MAX = 10_000;

/** API keys: created, listed, budgeted and revoked by the gateway command and the admin API; only hashes are stored. */
export class ApiKeyService {
  private activeCount: { value: number; at: number } | null = null;
  /** Keys that authenticated in the last KEY_CACHE_MS, by hash: a busy key costs one row read a second, not one a request. */
  private readonly recentKeys = new Map<string, { key: AuthenticatedKey; at: number }>();
  /** When each key's last_used_at was last written: at most once a minute, off the request path. */
  private readonly touched = new Map<string, number>();

  constructor(private readonly db: Database) {}

  async create(name: string, rateLimit: number | null = null, budgets: KeyBudgets = {}): Promise<{ key: string; row: ApiKeyRow }> {
    check(ApiKeyName, name, 'the key name');
    if (rateLimit !== null) check(ApiKeyRateLimit, rateLimit, 'the rate limit');
    const dailyBudgetMicros = budgetMicros(budgets.dailyUsd, 'daily');
    const monthlyBudgetMicros = budgetMicros(budgets.monthlyUsd, 'monthly');
    const key = `${KEY_PREFIX}${base62(40)}`;
    const [row] = await this.db
      .insert(apiKeys)
      .values({
        id: `key_${base62(16)}`,
        name,
        prefix: key.slice(0, 10),
        hash: hashApiKey(key),
        rateLimit,
        dailyBudgetMicros,
        monthlyBudgetMicros,
      })
      .returning();
    this.activeCount = null;
    return { key, row: row! };
  }

  list(): Promise<ApiKeyRow[]> {
    return this.db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt));
  }

  /** Sets or clears a key's budgets (a budget left out stays as it is; null clears it). Answers the row, or null. */
  async setBudgets(id: string, budgets: KeyBudgets): Promise<ApiKeyRow | null> {
    const set: Partial<ApiKeyRow> = {};
    if (budgets.dailyUsd !== undefined) set.dailyBudgetMicros = budgetMicros(budgets.dailyUsd, 'daily');
    if (budgets.monthlyUsd !== undefined) set.monthlyBudgetMicros = budgetMicros(budgets.monthlyUsd, 'monthly');
    if (Object.keys(set).length === 0) throw new Error('name a budget to set: --daily-budget or --monthly-budget (USD, or "none")');
    const [row] = await this.db.update(apiKeys).set(set).where(eq(apiKeys.id, id)).returning();
    this.recentKeys.clear();
    return row ?? null;
  }

  /** A key's budgets with what has been spent in their current windows. */
  budgets(row: ApiKeyRow, now = new Date()): Promise<BudgetState[]> {
    return budgetStates(this.db, row, now);
  }

  async get(id: string): Promise<ApiKeyRow | null> {
    const [row] = await this.db.select().from(apiKeys).where(eq(apiKeys.id, id));
    return row ?? null;
  }

  /** Revokes an active key; answers its row, or null when there is no active key with that id. */
  async revoke(id: string): Promise<ApiKeyRow | null> {
    const [row] = await this.db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning();
    this.activeCount = null;
    this.recentKeys.clear();
    return row ?? null;
  }

  /** Number of active keys, cached for a few seconds (decides whether the gateway runs open in development). */
  async countActive(): Promise<number> {
    if (this.activeCount && Date.now() - this.activeCount.at < 5_000) return this.activeCount.value;
    const [row] = await this.db.select({ n: sql<number>`count(*)::int` }).from(apiKeys).where(isNull(apiKeys.revokedAt));
    this.activeCount = { value: Number(row?.n ?? 0), at: Date.now() };
    return this.activeCount.value;
  }

  /** The key, when it authenticated in the last KEY_CACHE_MS (answered without reading its row); else undefined. */
  recent(presented: string): AuthenticatedKey | undefined {
    return this.recentByHash(hashApiKey(presented), Date.now());
  }

  private recentByHash(hash: string, now: number): AuthenticatedKey | undefined {
    const hit = this.recentKeys.get(hash);
    return hit && now - hit.at < KEY_CACHE_MS ? hit.key : undefined;
  }

  /**
   * Looks a presented key up by its hash and compares in constant time. Unknown and known keys take the same
   * path: one hash, one indexed lookup, one constant-time compare.
   */
  async authenticate(presented: string): Promise<AuthenticatedKey | null> {
    const hash = hashApiKey(presented);
    const now = Date.now();
    const recent = this.recentByHash(hash, now);
    if (recent) return recent;
    const [row] = await this.db.select().from(apiKeys).where(eq(apiKeys.hash, hash));
    const match = timingSafeEqual(Buffer.from(row?.hash ?? DECOY, 'hex'), Buffer.from(hash, 'hex'));
    if (!row || !match || row.revokedAt) return null;
    // Bookkeeping happens off the request path, at most once a minute per key, so it does not change timing.
    if ((this.touched.get(row.id) ?? 0) < now - 60_000) {
      this.touched.set(row.id, now);
      void this.db
        .update(apiKeys)
        .set({ lastUsedAt: new Date(now) })
        .where(eq(apiKeys.id, row.id))
        .catch(() => {});
    }
    const key = {
      id: row.id,
      name: row.name,
      rateLimit: row.rateLimit,
      budgeted: row.dailyBudgetMicros !== null || row.monthlyBudgetMicros !== null,
    };
    if (this.recentKeys.size >= KEY_CACHE_MAX) this.recentKeys.clear();
    this.recentKeys.set(hash, { key, at: now });
    return key;
  }
}
