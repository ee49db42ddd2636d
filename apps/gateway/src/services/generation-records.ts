import { and, desc, eq, inArray, lt, or, type SQL } from 'drizzle-orm';
import type { Generation, ListGenerationsQuery } from '@gptmarket/contracts';
import { generations, type Database, type GenerationRow } from '@gptmarket/db';
import type { Storage } from '@gptmarket/storage';
import { ApiError } from '../errors.js';
import { storageKeysIn, withFreshUrls } from './media-urls.js';

/** Who is asking: an API key sees its own generations; basic auth and open mode see all. */
export interface Caller {
  apiKeyId: string | null;
}

function encodeCursor(row: GenerationRow): string {
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

/** Reads generation records and turns them into the API's generation objects. */
export class GenerationRecords {
  constructor(
    private readonly db: Database,
    /** Where the outputs' media lives: records keep its keys and get fresh URLs from it on every read. */
    private readonly storage: Storage,
  ) {}

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

  /** One page of the caller's generations, newest first. */
  async list(query: ListGenerationsQuery, caller: Caller): Promise<{ rows: GenerationRow[]; nextCursor: string | null }> {
    const where: SQL[] = [];
    if (caller.apiKeyId) where.push(eq(generations.apiKeyId, caller.apiKeyId));
    if (query.type) where.push(eq(generations.type, query.type));
    if (query.status) where.push(eq(generations.status, query.status));
    if (query.cursor) {
      const c = decodeCursor(query.cursor);
      where.push(or(lt(generations.createdAt, c.createdAt), and(eq(generations.createdAt, c.createdAt), lt(generations.id, c.id)))!);
    }
    const rows = await this.db
      .select()
      .from(generations)
      .where(where.length ? and(...where) : undefined)
      .orderBy(desc(generations.createdAt), desc(generations.id))
      .limit(query.limit + 1);
    const page = rows.slice(0, query.limit);
    return { rows: page, nextCursor: rows.length > query.limit ? encodeCursor(page[page.length - 1]!) : null };
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
      // Records completed before keys were kept have none: their keys are read off their URLs (ours only).
      output: output ? await withFreshUrls(output, row.outputKeys ?? storageKeysIn(output, this.storage), this.storage) : null,
      error: row.error ?? null,
      warnings: row.warnings,
      retry_of: row.retryOf,
      metadata: row.metadata,
      created_at: row.createdAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
      completed_at: row.completedAt?.toISOString() ?? null,
    };
  }
}
