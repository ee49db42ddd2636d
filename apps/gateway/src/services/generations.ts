import { createHash } from 'node:crypto';
import { and, desc, eq, inArray, lt, or, type SQL } from 'drizzle-orm';
import { WorkflowFailedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import {
  ModelInputError,
  QUERY_GET_CURRENT_STEP,
  QUERY_GET_STATUS,
  REWRITE_IGNORED_WARNING,
  StepProgress,
  WorkflowStatus,
  checkModelRequest,
  formatIssues,
  getGenerationType,
  isTerminalStatus,
  type CreateGenerationBody,
  type Generation,
  type GenerationError,
} from '@gptmarket/contracts';
import { generations, idempotencyKeys, webhookDeliveries, type Database, type GenerationRow } from '@gptmarket/db';
import { workflowToken, type Logger } from '@gptmarket/runtime';
import type { Storage } from '@gptmarket/storage';
import { ApiError } from '../errors.js';
import { newGenerationId, newWorkflowId } from './ids.js';
import { storageKeysIn, withFreshUrls } from './media-urls.js';
import { isUnavailable, type TemporalGateway } from './temporal.js';

/** Who is asking: an API key sees its own generations; basic auth and open mode see all. */
export interface Caller {
  apiKeyId: string | null;
}

export interface GenerationServiceDeps {
  db: Database;
  temporal: TemporalGateway;
  taskQueue: string;
  /** The workflow secret; only tokens derived from it leave the gateway. */
  workflowSecret: string | undefined;
  /** Where the outputs' media lives: records keep its keys and get fresh URLs from it on every read. */
  storage: Storage;
  log: Logger;
}

const ERROR_CODE_BY_TYPE: Record<string, string> = {
  AuthenticationError: 'auth_failed',
  InvalidInputError: 'invalid_input',
  ProviderError: 'provider_error',
  MediaError: 'media_error',
  StorageError: 'storage_error',
};

/** What a failed workflow tells the end user: our typed messages, or a generic one for anything unexpected. */
export function describeFailure(err: unknown, stepId: string | null): GenerationError {
  const cause = err instanceof WorkflowFailedError ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.type && ERROR_CODE_BY_TYPE[cause.type]) {
    return { code: ERROR_CODE_BY_TYPE[cause.type]!, message: cause.message.slice(0, 1000), step_id: stepId };
  }
  if (cause instanceof TimeoutFailure) return { code: 'timed_out', message: 'The generation timed out.', step_id: stepId };
  if (cause instanceof TerminatedFailure) return { code: 'terminated', message: 'The generation was terminated by an operator.', step_id: stepId };
  return { code: 'internal', message: 'The generation failed unexpectedly.', step_id: stepId };
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);

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
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export interface ListQuery {
  type?: string | undefined;
  status?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export function encodeCursor(row: GenerationRow): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`, 'utf8').toString('base64url');
}
function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || !/^gen_[A-Za-z0-9]+$/.test(id) || Number.isNaN(createdAt.getTime())) {
    throw new ApiError(400, 'validation_failed', 'the cursor is not valid', [{ path: 'query.cursor', message: 'not a cursor from this API' }]);
  }
  return { createdAt, id };
}

export class GenerationService {
  /** Called after a record changes (the tracker fans it out to SSE listeners). */
  onChange: (row: GenerationRow) => void = () => {};
  /**
   * History length at the last observation of each running workflow. Queries answer from history, so when it
   * has not grown neither can their answers: the tracker then skips the two queries.
   */
  private readonly seenHistory = new Map<string, number>();

  constructor(private readonly deps: GenerationServiceDeps) {}

  /** The API object of a record; its media URLs are made now from the stored keys, so they have not expired. */
  async toApi(row: GenerationRow): Promise<Generation> {
    const output = row.output as Record<string, unknown> | null;
    return {
      id: row.id,
      type: row.type,
      workflow_type: row.workflowType,
      workflow_id: row.workflowId,
      status: WorkflowStatus.parse(row.status),
      current_step: (row.currentStep as Generation['current_step']) ?? null,
      input: row.input as Record<string, unknown>,
      // Records completed before keys were kept have none: their keys are read off their URLs (ours only).
      output: output ? await withFreshUrls(output, row.outputKeys ?? storageKeysIn(output, this.deps.storage), this.deps.storage) : null,
      error: (row.error as GenerationError | null) ?? null,
      warnings: row.warnings,
      retry_of: row.retryOf,
      metadata: row.metadata as Record<string, unknown>,
      created_at: row.createdAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
      completed_at: row.completedAt?.toISOString() ?? null,
    };
  }

  /**
   * Validates the request against the type's contract, records it and starts its workflow. With an
   * Idempotency-Key the same key and body give the same generation; concurrent duplicates start one workflow.
   */
  async create(body: CreateGenerationBody, caller: Caller, opts: { idempotencyKey?: string; retryOf?: string } = {}): Promise<{ row: GenerationRow; replayed: boolean }> {
    const def = getGenerationType(body.type);
    if (!def) throw new ApiError(400, 'unknown_type', `unknown generation type "${body.type}"`);
    const parsed = def.input.safeParse(body.input);
    if (!parsed.success) {
      throw new ApiError(400, 'validation_failed', 'the input does not match the contract', formatIssues(parsed.error, ['input']));
    }
    // Model params are checked against each model's schema now, before anything is started or paid for; keys a
    // model does not know are dropped with a warning (the workflow reports the same warnings in its result).
    const modelWarnings: string[] = [];
    for (const request of def.modelRequests?.(parsed.data as never) ?? []) {
      try {
        modelWarnings.push(...checkModelRequest(request));
      } catch (err) {
        if (!(err instanceof ModelInputError)) throw err;
        const path = ['input', request.params_field ?? request.model, ...(err.field ? [err.field] : [])].join('.');
        throw new ApiError(400, 'validation_failed', 'the input does not match the model', [{ path, message: err.message }]);
      }
    }
    const { secret_key: _ignored, ...input } = parsed.data as Record<string, unknown>;
    const warnings = [...(input.rewrite_enabled === true ? [REWRITE_IGNORED_WARNING] : []), ...modelWarnings];
    const scope = caller.apiKeyId ?? 'anonymous';

    let id = newGenerationId();
    let workflowId = newWorkflowId(def.workflowIdPrefix);
    if (opts.idempotencyKey) {
      // Ids derive from the key, so racing duplicates collide on the same rows and the same workflow id.
      const digest = sha256(`${scope}\n${opts.idempotencyKey}`);
      id = `gen_i${digest.slice(0, 27)}`;
      workflowId = `${def.workflowIdPrefix}-idem-${digest.slice(0, 40)}`;
      const requestHash = sha256(canonical({ type: body.type, input: body.input, webhook_url: body.webhook_url ?? null, metadata: body.metadata ?? null }));
      const inserted = await this.deps.db
        .insert(idempotencyKeys)
        .values({ scope, key: opts.idempotencyKey, requestHash, generationId: id })
        .onConflictDoNothing()
        .returning();
      if (inserted.length === 0) {
        const [existing] = await this.deps.db
          .select()
          .from(idempotencyKeys)
          .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, opts.idempotencyKey)));
        if (existing && existing.requestHash !== requestHash) {
          throw new ApiError(409, 'idempotency_conflict', 'this Idempotency-Key was used with a different request body');
        }
        // The first request may still be starting its workflow: wait briefly for its record.
        for (let i = 0; i < 100; i++) {
          const row = await this.find(existing?.generationId ?? id, caller);
          if (row) return { row, replayed: true };
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new ApiError(409, 'idempotency_conflict', 'a request with this Idempotency-Key is still being processed; retry shortly');
      }
    }

    const [row] = await this.deps.db
      .insert(generations)
      .values({
        id,
        type: def.type,
        workflowType: def.workflowType,
        workflowId,
        status: 'pending',
        input,
        warnings,
        metadata: body.metadata ?? {},
        webhookUrl: body.webhook_url ?? null,
        apiKeyId: caller.apiKeyId,
        idempotencyKey: opts.idempotencyKey ?? null,
        retryOf: opts.retryOf ?? null,
      })
      .returning();
    try {
      const client = await this.deps.temporal.get();
      const secret_key = this.deps.workflowSecret ? workflowToken(this.deps.workflowSecret, workflowId) : null;
      await client.workflow.start(def.workflowType, {
        taskQueue: this.deps.taskQueue,
        workflowId,
        args: [{ ...input, secret_key }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (err) {
      await this.deps.db.delete(generations).where(eq(generations.id, id));
      if (opts.idempotencyKey) {
        await this.deps.db
          .delete(idempotencyKeys)
          .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, opts.idempotencyKey)));
      }
      if (isUnavailable(err)) throw new ApiError(503, 'unavailable', 'the workflow service is unreachable; nothing was started');
      throw err;
    }
    this.deps.log.info('generation started', { id, type: def.type, workflowId });
    this.onChange(row!);
    return { row: row!, replayed: false };
  }

  /** A generation visible to the caller, or null. */
  async find(id: string, caller?: Caller): Promise<GenerationRow | null> {
    const [row] = await this.deps.db.select().from(generations).where(eq(generations.id, id));
    if (!row) return null;
    if (caller?.apiKeyId && row.apiKeyId !== caller.apiKeyId) return null;
    return row;
  }

  async list(query: ListQuery, caller: Caller): Promise<{ rows: GenerationRow[]; nextCursor: string | null }> {
    const where: SQL[] = [];
    if (caller.apiKeyId) where.push(eq(generations.apiKeyId, caller.apiKeyId));
    if (query.type) where.push(eq(generations.type, query.type));
    if (query.status) where.push(eq(generations.status, query.status));
    if (query.cursor) {
      const c = decodeCursor(query.cursor);
      where.push(or(lt(generations.createdAt, c.createdAt), and(eq(generations.createdAt, c.createdAt), lt(generations.id, c.id)))!);
    }
    const rows = await this.deps.db
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
    return this.deps.db
      .select()
      .from(generations)
      .where(inArray(generations.status, ['pending', 'running']))
      .orderBy(generations.createdAt)
      .limit(limit);
  }

  async cancel(row: GenerationRow): Promise<GenerationRow> {
    if (isTerminalStatus(WorkflowStatus.parse(row.status))) {
      throw new ApiError(409, 'invalid_state', `the generation is already ${row.status}`);
    }
    try {
      const client = await this.deps.temporal.get();
      await client.workflow.getHandle(row.workflowId).cancel();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return this.refresh(row);
      if (isUnavailable(err)) throw new ApiError(503, 'unavailable', 'the workflow service is unreachable; nothing was cancelled');
      throw err;
    }
    this.deps.log.info('generation cancel requested', { id: row.id });
    return this.refresh(row);
  }

  async retry(row: GenerationRow, caller: Caller): Promise<GenerationRow> {
    if (row.status !== 'failed' && row.status !== 'cancelled') {
      throw new ApiError(409, 'invalid_state', `only failed or cancelled generations can be retried; this one is ${row.status}`);
    }
    const { row: created } = await this.create(
      {
        type: row.type,
        input: row.input as Record<string, unknown>,
        metadata: row.metadata as Record<string, string>,
        ...(row.webhookUrl ? { webhook_url: row.webhookUrl } : {}),
      },
      caller.apiKeyId ? caller : { apiKeyId: row.apiKeyId },
      { retryOf: row.id },
    );
    return created;
  }

  /**
   * Brings a record up to date with its workflow; terminal records are final. A terminal transition with a
   * webhook also records its delivery in the same transaction, so no event is lost if the gateway stops.
   */
  async refresh(row: GenerationRow): Promise<GenerationRow> {
    if (isTerminalStatus(WorkflowStatus.parse(row.status))) return row;
    let client;
    try {
      client = await this.deps.temporal.get();
    } catch {
      return row; // Temporal unreachable: serve what we know
    }
    let update: Partial<GenerationRow>;
    try {
      update = await this.observe(client.workflow.getHandle(row.workflowId), row);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || isUnavailable(err)) return row;
      throw err;
    }
    if (update.status === row.status && JSON.stringify(update.currentStep) === JSON.stringify(row.currentStep)) return row;
    const terminal = isTerminalStatus(WorkflowStatus.parse(update.status));
    const saved = await this.deps.db.transaction(async (tx) => {
      const [next] = await tx
        .update(generations)
        .set({ ...update, updatedAt: new Date(), revision: row.revision + 1 })
        // Only the first observer of a change writes it (several gateways may track the same record).
        .where(and(eq(generations.id, row.id), eq(generations.revision, row.revision)))
        .returning();
      if (next && terminal && next.webhookUrl) {
        await tx
          .insert(webhookDeliveries)
          .values({ id: `whd_${next.id.slice(4)}_${next.status}`, generationId: next.id, event: `generation.${next.status}`, url: next.webhookUrl, status: 'pending' })
          .onConflictDoNothing();
      }
      return next;
    });
    if (!saved) return (await this.find(row.id)) ?? row;
    this.onChange(saved);
    return saved;
  }

  private async currentStep(handle: WorkflowHandle): Promise<StepProgress | null> {
    try {
      return StepProgress.nullable().parse(await withTimeout(handle.query(QUERY_GET_CURRENT_STEP), 5_000));
    } catch {
      return null;
    }
  }

  private async observe(handle: WorkflowHandle, row: GenerationRow): Promise<Partial<GenerationRow>> {
    const { status, historyLength } = await handle.describe();
    if (status.name !== 'RUNNING') this.seenHistory.delete(row.workflowId);
    switch (status.name) {
      case 'RUNNING':
      case 'CONTINUED_AS_NEW': {
        if (this.seenHistory.get(row.workflowId) === historyLength && row.status === 'running') {
          return { status: row.status, currentStep: row.currentStep };
        }
        if (this.seenHistory.size > 10_000) this.seenHistory.clear();
        this.seenHistory.set(row.workflowId, historyLength);
        const [wfStatus, step] = await Promise.all([
          withTimeout(handle.query<string>(QUERY_GET_STATUS), 5_000).catch(() => 'running'),
          this.currentStep(handle),
        ]);
        const parsed = WorkflowStatus.safeParse(wfStatus);
        const live = parsed.success && !isTerminalStatus(parsed.data) ? parsed.data : 'running';
        return { status: live, currentStep: step ?? row.currentStep };
      }
      case 'COMPLETED': {
        const output = (await handle.result()) as Record<string, unknown>;
        const warnings = [...new Set([...row.warnings, ...((output?.warnings as string[] | undefined) ?? [])])];
        const outputKeys = storageKeysIn(output, this.deps.storage);
        return { status: 'completed', output, outputKeys, warnings, error: null, currentStep: await this.currentStep(handle), completedAt: new Date() };
      }
      case 'CANCELLED':
        return { status: 'cancelled', currentStep: await this.currentStep(handle), completedAt: new Date() };
      default: {
        // FAILED, TERMINATED, TIMED_OUT
        const step = await this.currentStep(handle);
        let error: GenerationError;
        try {
          await handle.result();
          error = describeFailure(null, step?.step_id ?? null);
        } catch (err) {
          if (err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure) {
            return { status: 'cancelled', currentStep: step, completedAt: new Date() };
          }
          error = describeFailure(err, step && step.status === 'failed' ? step.step_id : null);
        }
        return { status: 'failed', error, currentStep: step, completedAt: new Date() };
      }
    }
  }
}
