import { desc, eq } from 'drizzle-orm';
import { WorkflowFailedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import {
  QUERY_GET_CURRENT_STEP,
  QUERY_GET_STATUS,
  StepProgress,
  WorkflowStatus,
  formatIssues,
  getGenerationType,
  isTerminalStatus,
  type CreateGenerationBody,
  type Generation,
  type GenerationError,
} from '@gptmarket/contracts';
import { generations, type Database, type GenerationRow } from '@gptmarket/db';
import { workflowToken, type Logger } from '@gptmarket/providers';
import { ApiError } from '../errors.js';
import { newGenerationId, newWorkflowId } from './ids.js';
import { isUnavailable, type TemporalGateway } from './temporal.js';

export interface GenerationServiceDeps {
  db: Database;
  temporal: TemporalGateway;
  taskQueue: string;
  /** The workflow secret; only tokens derived from it leave the gateway. */
  workflowSecret: string | undefined;
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
    return { code: ERROR_CODE_BY_TYPE[cause.type]!, message: cause.message, step_id: stepId };
  }
  if (cause instanceof TimeoutFailure) return { code: 'timed_out', message: 'The generation timed out.', step_id: stepId };
  if (cause instanceof TerminatedFailure) return { code: 'terminated', message: 'The generation was terminated by an operator.', step_id: stepId };
  return { code: 'internal', message: 'The generation failed unexpectedly.', step_id: stepId };
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);

export class GenerationService {
  constructor(private readonly deps: GenerationServiceDeps) {}

  toApi(row: GenerationRow): Generation {
    return {
      id: row.id,
      type: row.type,
      workflow_type: row.workflowType,
      workflow_id: row.workflowId,
      status: WorkflowStatus.parse(row.status),
      current_step: (row.currentStep as Generation['current_step']) ?? null,
      input: row.input as Record<string, unknown>,
      output: (row.output as Record<string, unknown> | null) ?? null,
      error: (row.error as GenerationError | null) ?? null,
      warnings: row.warnings,
      retry_of: row.retryOf,
      metadata: row.metadata as Record<string, unknown>,
      created_at: row.createdAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
      completed_at: row.completedAt?.toISOString() ?? null,
    };
  }

  /** Validates the request against the type's contract, records it, and starts its workflow. */
  async create(body: CreateGenerationBody): Promise<GenerationRow> {
    const def = getGenerationType(body.type);
    if (!def) throw new ApiError(400, 'unknown_type', `unknown generation type "${body.type}"`);
    const parsed = def.input.safeParse(body.input);
    if (!parsed.success) {
      throw new ApiError(400, 'validation_failed', 'the input does not match the contract', formatIssues(parsed.error, ['input']));
    }
    const { secret_key: _ignored, ...input } = parsed.data as Record<string, unknown>;
    const warnings = input.rewrite_enabled === true ? ['rewrite_enabled was ignored: rewriting media to evade detection is not supported'] : [];
    const id = newGenerationId();
    const workflowId = newWorkflowId(def.workflowIdPrefix);
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
      })
      .returning();
    try {
      const client = await this.deps.temporal.get();
      const secret_key = this.deps.workflowSecret ? workflowToken(this.deps.workflowSecret, workflowId) : null;
      await client.workflow.start(def.workflowType, {
        taskQueue: this.deps.taskQueue,
        workflowId,
        args: [{ ...input, secret_key }],
      });
    } catch (err) {
      await this.deps.db.delete(generations).where(eq(generations.id, id));
      if (isUnavailable(err)) throw new ApiError(503, 'unavailable', 'the workflow service is unreachable; nothing was started');
      throw err;
    }
    this.deps.log.info('generation started', { id, type: def.type, workflowId });
    return row!;
  }

  async find(id: string): Promise<GenerationRow | null> {
    const [row] = await this.deps.db.select().from(generations).where(eq(generations.id, id));
    return row ?? null;
  }

  async list(limit: number): Promise<GenerationRow[]> {
    return this.deps.db.select().from(generations).orderBy(desc(generations.createdAt), desc(generations.id)).limit(limit);
  }

  /** Brings a record up to date with its workflow; terminal records are final and returned as they are. */
  async refresh(row: GenerationRow): Promise<GenerationRow> {
    if (isTerminalStatus(WorkflowStatus.parse(row.status))) return row;
    let client;
    try {
      client = await this.deps.temporal.get();
    } catch {
      return row; // Temporal unreachable: serve what we know
    }
    const handle = client.workflow.getHandle(row.workflowId);
    let update: Partial<GenerationRow>;
    try {
      update = await this.observe(handle, row);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || isUnavailable(err)) return row;
      throw err;
    }
    if (update.status === row.status && JSON.stringify(update.currentStep) === JSON.stringify(row.currentStep)) return row;
    const [saved] = await this.deps.db
      .update(generations)
      .set({ ...update, updatedAt: new Date(), revision: row.revision + 1 })
      .where(eq(generations.id, row.id))
      .returning();
    return saved ?? row;
  }

  private async currentStep(handle: WorkflowHandle): Promise<StepProgress | null> {
    try {
      return StepProgress.nullable().parse(await withTimeout(handle.query(QUERY_GET_CURRENT_STEP), 5_000));
    } catch {
      return null;
    }
  }

  private async observe(handle: WorkflowHandle, row: GenerationRow): Promise<Partial<GenerationRow>> {
    const { status } = await handle.describe();
    switch (status.name) {
      case 'RUNNING':
      case 'CONTINUED_AS_NEW': {
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
        return { status: 'completed', output, warnings, currentStep: await this.currentStep(handle), completedAt: new Date() };
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
          error = describeFailure(err, step?.status === 'failed' ? step.step_id : null);
          if (err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure) {
            return { status: 'cancelled', currentStep: step, completedAt: new Date() };
          }
        }
        return { status: 'failed', error, currentStep: step, completedAt: new Date() };
      }
    }
  }
}
