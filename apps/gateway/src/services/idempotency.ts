import { hash } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { CreateGenerationBody } from '@gptmarket/contracts';
import { idempotencyKeys, type Database } from '@gptmarket/db';
import { ApiError } from '../errors.js';

/** Stable JSON (sorted keys) so the same body always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
const sha256 = (s: string) => hash('sha256', s, 'hex');

/**
 * An Idempotency-Key of one caller (`scope`: the API key id or `anonymous`). The generation and workflow ids derive
 * from it, so racing duplicates collide on the same rows and the same workflow id.
 */
export class IdempotencyKey {
  readonly generationId: string;
  private readonly digest: string;

  constructor(
    private readonly db: Database,
    readonly scope: string,
    readonly key: string,
  ) {
    this.digest = sha256(`${scope}\n${key}`);
    this.generationId = `gen_i${this.digest.slice(0, 27)}`;
  }

  workflowId(prefix: string): string {
    return `${prefix}-idem-${this.digest.slice(0, 40)}`;
  }

  /**
   * Records the key for this request. Returns null when it is new (go ahead), else the generation id the key
   * was first used for; a different request body under the same key is a 409.
   */
  async claim(body: CreateGenerationBody): Promise<string | null> {
    const requestHash = sha256(
      canonical({ type: body.type, input: body.input, webhook_url: body.webhook_url ?? null, metadata: body.metadata ?? null }),
    );
    const inserted = await this.db
      .insert(idempotencyKeys)
      .values({ scope: this.scope, key: this.key, requestHash, generationId: this.generationId })
      .onConflictDoNothing()
      .returning();
    if (inserted.length > 0) return null;
    const [existing] = await this.db.select().from(idempotencyKeys).where(this.where());
    if (existing && existing.requestHash !== requestHash) {
      throw new ApiError(409, 'idempotency_conflict', 'this Idempotency-Key was used with a different request body');
    }
    return existing?.generationId ?? this.generationId;
  }

  /** Forgets the key (its workflow could not be started). */
  async release(): Promise<void> {
    await this.db.delete(idempotencyKeys).where(this.where());
  }

  private where() {
    return and(eq(idempotencyKeys.scope, this.scope), eq(idempotencyKeys.key, this.key));
  }
}
