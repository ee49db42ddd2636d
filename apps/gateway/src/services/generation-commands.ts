import { eq } from 'drizzle-orm';
import { WorkflowNotFoundError } from '@temporalio/client';
import {
  estimateCost,
  estimatedCost,
  GENERATION_ID_MEMO,
  isTerminalStatus,
  sumMicros,
  type CreateGenerationBody,
} from '@gptmarket/contracts';
import { generations, generationStatements, type Database, type GenerationRow } from '@gptmarket/db';
import { workflowToken, type Logger } from '@gptmarket/runtime';
import { ApiError } from '../errors.js';
import { assertWithinBudget } from './api-keys.js';
import type { GenerationListener } from './generation-feed.js';
import type { GenerationObserver } from './generation-observer.js';
import type { Caller, GenerationRecords } from './generation-records.js';
import { IdempotencyKey } from './idempotency.js';
import { newGenerationId, newWorkflowId } from './ids.js';
import { isUnavailable, type TemporalGateway } from './temporal.js';
import { validateRequest } from './validate-request.js';

export interface GenerationCommandsDeps {
  db: Database;
  temporal: TemporalGateway;
  taskQueue: string;
  /** The workflow secret; only tokens derived from it leave the gateway. */
  workflowSecret: string | undefined;
  records: GenerationRecords;
  /** Brings a record up to date after a cancel. */
  observer: GenerationObserver;
  /** Told of every generation created. */
  onChange: GenerationListener;
  log: Logger;
}

/** What callers ask of generations: create (validate, record, start its workflow), cancel, retry. */
export class GenerationCommands {
  constructor(private readonly deps: GenerationCommandsDeps) {}

  /**
   * Validates the request against the type's contract, records it and starts its workflow. With an
   * Idempotency-Key the same key and body give the same generation; concurrent duplicates start one workflow.
   */
  async create(
    body: CreateGenerationBody,
    caller: Caller,
    opts: { idempotencyKey?: string; retryOf?: string } = {},
  ): Promise<{ row: GenerationRow; replayed: boolean }> {
    const { def, input, warnings } = validateRequest(body);
    const idempotency = opts.idempotencyKey ? new IdempotencyKey(this.deps.db, caller.apiKeyId ?? 'anonymous', opts.idempotencyKey) : null;
    const id = idempotency?.generationId ?? newGenerationId();
    const workflowId = idempotency?.workflowId(def.workflowIdPrefix) ?? newWorkflowId(def.workflowIdPrefix);
    const firstId = await idempotency?.claim(body);
    if (firstId) {
      // The first request may still be starting its workflow: wait briefly for its record.
      for (let i = 0; i < 100; i++) {
        const row = await this.deps.records.find(firstId, caller);
        if (row) return { row, replayed: true };
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new ApiError(409, 'idempotency_conflict', 'a request with this Idempotency-Key is still being processed; retry shortly');
    }

    // Its price before anything is paid: the key's budgets are checked against it, and it counts against them
    // until the workflow ends (then its actual cost does).
    const cost = estimatedCost(estimateCost(def.type, input));
    const costMicros = sumMicros(cost.items);
    // Cached list pages must not miss it (nor show it, should its start fail).
    this.deps.records.changed();
    const values = {
      id,
      type: def.type,
      workflowType: def.workflowType,
      workflowId,
      status: 'pending' as const,
      input,
      warnings,
      cost,
      costMicros,
      metadata: body.metadata ?? {},
      webhookUrl: body.webhook_url ?? null,
      apiKeyId: caller.apiKeyId,
      idempotencyKey: opts.idempotencyKey ?? null,
      retryOf: opts.retryOf ?? null,
    };
    // A key that may have a budget: checked and recorded in one transaction holding the key's row lock (concurrent
    // requests of a key queue here). Otherwise one statement.
    const keyId = caller.apiKeyId;
    const budgeted = Boolean(keyId && caller.budgeted !== false);
    const record = async (): Promise<GenerationRow> => {
      const [inserted] = budgeted
        ? await this.deps.db.transaction(async (tx) => {
            await assertWithinBudget(tx, keyId!, costMicros);
            return tx.insert(generations).values(values).returning();
          })
        : [await generationStatements(this.deps.db).insert(values)];
      return inserted!;
    };
    const start = async (): Promise<void> => {
      const client = await this.deps.temporal.get();
      // The workflow input on the wire is the Python one: the request and its credential.
      const secret_key = this.deps.workflowSecret ? workflowToken(this.deps.workflowSecret, workflowId) : null;
      await client.workflow.start(def.workflowType, {
        taskQueue: this.deps.taskQueue,
        workflowId,
        args: [{ ...input, secret_key }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        memo: { [GENERATION_ID_MEMO]: id }, // the generation id on every log line of its work
      });
    };
    // The record comes first when writing it may refuse the request (a budget) or meet an earlier one (an
    // Idempotency-Key); otherwise the record and the start go together, so a request waits for the slower of the
    // two rather than for both, and whichever failed is undone.
    const [recorded, started] =
      budgeted || idempotency
        ? await settle(record()).then(async (r) => [r, r.ok ? await settle(start()) : null] as const)
        : await Promise.all([settle(record()), settle(start())]);
    if (!recorded.ok) {
      if (started?.ok) await this.undoStart(workflowId);
      await idempotency?.release();
      throw recorded.error;
    }
    if (!started!.ok) {
      await this.deps.db.delete(generations).where(eq(generations.id, id));
      this.deps.records.changed();
      await idempotency?.release();
      if (isUnavailable(started!.error)) throw new ApiError(503, 'unavailable', 'the workflow service is unreachable; nothing was started');
      throw started!.error;
    }
    const row = recorded.value;
    this.deps.log.info('generation started', { id, type: def.type, workflowId });
    this.deps.onChange(row);
    return { row, replayed: false };
  }

  /** A workflow started for a request whose record could not be written: ended before it pays for anything. */
  private async undoStart(workflowId: string): Promise<void> {
    try {
      const client = await this.deps.temporal.get();
      await client.workflow.getHandle(workflowId).terminate('its generation record could not be written');
    } catch (err) {
      this.deps.log.error('a workflow without a record could not be terminated', { workflowId, error: (err as Error).message });
    }
  }

  async cancel(row: GenerationRow): Promise<GenerationRow> {
    if (isTerminalStatus(row.status)) {
      throw new ApiError(409, 'invalid_state', `the generation is already ${row.status}`);
    }
    try {
      const client = await this.deps.temporal.get();
      await client.workflow.getHandle(row.workflowId).cancel();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return this.deps.observer.refresh(row);
      if (isUnavailable(err)) throw new ApiError(503, 'unavailable', 'the workflow service is unreachable; nothing was cancelled');
      throw err;
    }
    this.deps.log.info('generation cancel requested', { id: row.id });
    return this.deps.observer.refresh(row);
  }

  /** A new generation with the same request (failed or cancelled ones only). */
  async retry(row: GenerationRow, caller: Caller): Promise<GenerationRow> {
    if (row.status !== 'failed' && row.status !== 'cancelled') {
      throw new ApiError(409, 'invalid_state', `only failed or cancelled generations can be retried; this one is ${row.status}`);
    }
    const { row: created } = await this.create(
      {
        type: row.type,
        input: row.input,
        metadata: row.metadata,
        ...(row.webhookUrl ? { webhook_url: row.webhookUrl } : {}),
      },
      caller.apiKeyId ? caller : { apiKeyId: row.apiKeyId },
      { retryOf: row.id },
    );
    return created;
  }
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
const settle = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
