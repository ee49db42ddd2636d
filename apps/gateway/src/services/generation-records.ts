import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { Generation, isTerminalStatus, type ListGenerationsQuery } from '@gptmarket/contracts';
import { generations, type Database, type GenerationRow } from '@gptmarket/db';
import type { Storage } from '@gptmarket/storage';
import { ApiError } from '../errors.js';
import { strongEtag } from '../etag.js';
import { storageKeysIn, withFreshUrls } from './media-urls.js';

/** Who is asking: an API key sees its own generations; basic auth and open mode see all. */
export interface Caller {
  apiKeyId: string | null;
  /** Whether the key had a budget when it authenticated this request (unknown when absent: then it is checked). */
  budgeted?: boolean;
}

/** `base64url("<created_at ISO, ms>|<id>")`: the position of the page's last row (created_at has ms precision). */
function encodeCursor(row: Pick<GenerationRow, 'createdAt' | 'id'>): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || !/^gen_[A-Za-z0-9]+$/.test(id) || Number.isNaN(createdAt.getTime())) {
    throw new ApiError(400, 'validation_failed', 'the cursor is not valid', [
      { path: 'query.cursor', message: 'not a cursor from this API' },
    ]);
  }
  return { createdAt, id };
}

/** A generation as the API sends it: its JSON text and the strong `ETag` of that text. */
export interface RenderedGeneration {
  json: string;
  etag: string;
}

interface CachedGeneration extends RenderedGeneration {
  apiKeyId: string | null;
  /** When to render it again (epoch ms): its presigned media URLs must keep most of their lifetime. */
  freshUntil: number;
}

const visibleTo = (apiKeyId: string | null, caller?: Caller) => !caller?.apiKeyId || apiKeyId === caller.apiKeyId;

/**
 * Reads generation records and turns them into the API's generation objects.
 *
 * Terminal records never change, so their rendered answers are kept in a bounded in-process cache (least recently
 * used out first) and served without a database round trip, to their owner only. An answer with presigned media URLs
 * is rendered again after an eighth of the URLs' lifetime: the storage hands out URLs with at least 7/8 of their
 * lifetime left (`packages/storage/src/s3.ts`), so every URL served from the cache still has 3/4 or more.
 */
export class GenerationRecords {
  private readonly rendered = new Map<string, CachedGeneration>();
  /** List pages by caller and query, dropped on every change (see `changed`). */
  private readonly pages = new Map<string, { json: string; freshUntil: number }>();
  /** Bumped by every change: a page read while one happened is not kept (it may predate it). */
  private version = 0;

  constructor(
    private readonly db: Database,
    /** Where the outputs' media lives: records keep its keys and get fresh URLs from it on every read. */
    private readonly storage: Storage,
    /** How many terminal answers the cache keeps. */
    private readonly cacheSize = 2_000,
    /** How long a list page is served from memory at most (changes made by this gateway drop it at once). */
    private readonly pageMaxAgeMs = 250,
  ) {}

  /**
   * Told of every generation this gateway creates, changes or deletes: cached list pages may show it, so they go.
   * Changes written by another gateway replica reach its pages within `pageMaxAgeMs`.
   */
  changed(): void {
    this.version++;
    this.pages.clear();
  }

  /** The cached answer for a terminal generation the caller may see, or undefined (then read the record). */
  cached(id: string, caller?: Caller): RenderedGeneration | undefined {
    const hit = this.rendered.get(id);
    if (!hit) return undefined;
    this.rendered.delete(id);
    if (hit.freshUntil <= Date.now()) return undefined;
    this.rendered.set(id, hit); // most recently used last
    return visibleTo(hit.apiKeyId, caller) ? hit : undefined;
  }

  /** The API's JSON for a record (terminal ones are cached, see the class comment). */
  async render(row: GenerationRow): Promise<RenderedGeneration> {
    const terminal = isTerminalStatus(row.status);
    const hit = terminal ? this.cached(row.id) : undefined;
    if (hit) return hit;
    const now = Date.now();
    const api = await this.toApi(row);
    const json = JSON.stringify(z.encode(Generation, api));
    const rendered = { json, etag: strongEtag(json) };
    if (terminal) {
      const expiry = this.storage.urlExpirySeconds;
      const expiring = expiry !== null && api.output !== null && Object.keys(this.keysOf(row)).length > 0;
      if (this.rendered.size >= this.cacheSize) this.rendered.delete(this.rendered.keys().next().value!);
      this.rendered.set(row.id, { ...rendered, apiKeyId: row.apiKeyId, freshUntil: expiring ? now + (expiry * 1000) / 8 : Infinity });
    }
    return rendered;
  }

  /** A generation visible to the caller (any generation without one), or null. */
  async find(id: string, caller?: Caller): Promise<GenerationRow | null> {
    const [row] = await this.db.select().from(generations).where(eq(generations.id, id));
    if (!row) return null;
    if (caller?.apiKeyId && row.apiKeyId !== caller.apiKeyId) return null;
    return row;
  }

  /** A generation visible to the caller, or a 404. */
  async get(id: string, caller: Caller): Promise<GenerationRow> {
    const row = await this.find(id, caller);
    if (!row) throw new ApiError(404, 'not_found', `no generation ${id}`);
    return row;
  }

  /**
   * One page of the caller's generations, newest first, as the API's JSON. Keyset pagination on (created_at, id)
   * (indexes `generations_created_at_idx`, `generations_api_key_idx`): the page's keys come first, then the records
   * not in the cache, so a page of finished generations costs one small query. The page is then kept until this
   * gateway changes any generation, or `pageMaxAgeMs` (for changes written by other replicas), whichever comes
   * first, and never longer than its media URLs may be cached.
   */
  async listJson(query: ListGenerationsQuery, caller: Caller): Promise<string> {
    const pageKey = JSON.stringify([caller.apiKeyId, query.type, query.status, query.limit, query.cursor]);
    const now = Date.now();
    const hit = this.pages.get(pageKey);
    if (hit && hit.freshUntil > now) return hit.json;
    const version = this.version;
    const json = await this.queryPage(query, caller);
    if (version !== this.version) return json;
    const expiry = this.storage.urlExpirySeconds;
    if (this.pages.size >= 1_000) this.pages.clear();
    this.pages.set(pageKey, { json, freshUntil: now + Math.min(this.pageMaxAgeMs, expiry === null ? Infinity : (expiry * 1000) / 8) });
    return json;
  }

  private async queryPage(query: ListGenerationsQuery, caller: Caller): Promise<string> {
    const where: SQL[] = [];
    if (caller.apiKeyId) where.push(eq(generations.apiKeyId, caller.apiKeyId));
    if (query.type) where.push(eq(generations.type, query.type));
    if (query.status) where.push(eq(generations.status, query.status));
    if (query.cursor) {
      const c = decodeCursor(query.cursor);
      where.push(sql`(${generations.createdAt}, ${generations.id}) < (${c.createdAt.toISOString()}::timestamptz, ${c.id})`);
    }
    const keys = await this.db
      .select({ id: generations.id, createdAt: generations.createdAt })
      .from(generations)
      .where(where.length ? and(...where) : undefined)
      .orderBy(desc(generations.createdAt), desc(generations.id))
      .limit(query.limit + 1);
    const page = keys.slice(0, query.limit);
    const answers = new Map(page.map(({ id }) => [id, this.cached(id, caller)]));
    const missing = page.filter(({ id }) => !answers.get(id)).map(({ id }) => id);
    if (missing.length > 0) {
      const rows = await this.db.select().from(generations).where(inArray(generations.id, missing));
      await Promise.all(rows.map(async (row) => answers.set(row.id, await this.render(row))));
    }
    // A record deleted between the two queries (a start that failed) is left out.
    const data = page.flatMap(({ id }) => answers.get(id)?.json ?? []);
    const next = keys.length > query.limit ? encodeCursor(page[page.length - 1]!) : null;
    return `{"data":[${data.join(',')}],"next_cursor":${JSON.stringify(next)}}`;
  }

  /** Non-terminal records, oldest first (what the tracker follows). */
  async active(limit = 500): Promise<GenerationRow[]> {
    return this.db
      .select()
      .from(generations)
      .where(inArray(generations.status, ['pending', 'running']))
      .orderBy(generations.createdAt)
      .limit(limit);
  }

  /** The API object of a record; its media URLs are made now from the stored keys, so they have not expired. */
  async toApi(row: GenerationRow): Promise<Generation> {
    const { output } = row;
    return {
      id: row.id,
      type: row.type,
      workflow_type: row.workflowType,
      workflow_id: row.workflowId,
      status: row.status,
      current_step: row.currentStep ?? null,
      input: row.input,
      output: output ? await withFreshUrls(output, this.keysOf(row), this.storage) : null,
      error: row.error ?? null,
      warnings: row.warnings,
      cost: row.cost ?? null,
      retry_of: row.retryOf,
      metadata: row.metadata,
      created_at: row.createdAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
      completed_at: row.completedAt?.toISOString() ?? null,
    };
  }

  /** The storage keys of a record's media. Records completed before keys were kept have none: they are read off its URLs (ours only). */
  private keysOf(row: GenerationRow): Record<string, string> {
    return row.output ? (row.outputKeys ?? storageKeysIn(row.output, this.storage)) : {};
  }
}
