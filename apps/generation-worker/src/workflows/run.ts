/**
 * The workflow-side machinery every generation shares (the Python `WorkflowContext`): status and current
 * step behind the `get_status` / `get_current_step` queries, the auth check, input validation, and steps.
 * Imports only contracts and the workflow SDK.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyLocalActivities,
  setHandler,
  defineQuery,
} from '@temporalio/workflow';
import {
  AUTH_ERRORS,
  COMPLETE_STEP,
  ERROR_TYPES,
  QUERY_GET_CURRENT_STEP,
  QUERY_GET_STATUS,
  formatIssues,
  type GenerationActivities,
  type StepDefinition,
  type StepProgress,
  type WorkflowStatus,
} from '@gptmarket/contracts';
import type { z } from 'zod';

export const getStatusQuery = defineQuery<WorkflowStatus>(QUERY_GET_STATUS);
export const getCurrentStepQuery = defineQuery<StepProgress | null>(QUERY_GET_CURRENT_STEP);

const { verifyWorkflowAuth, validateModelRequests } = proxyLocalActivities<Pick<GenerationActivities, 'verifyWorkflowAuth' | 'validateModelRequests'>>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: [ERROR_TYPES.auth, ERROR_TYPES.invalidInput] },
});

/** Errors the workflow turns into a failed execution (instead of a retried workflow task). */
function asWorkflowFailure(err: unknown): unknown {
  if (isCancellation(err)) return err;
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (cause instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      message: cause.message,
      type: cause.type ?? ERROR_TYPES.provider,
      nonRetryable: true,
      details: cause.details ? [...cause.details] : undefined,
    });
  }
  if (err instanceof ActivityFailure) {
    return ApplicationFailure.create({
      message: err.cause?.message || err.message,
      type: ERROR_TYPES.provider,
      nonRetryable: true,
    });
  }
  return err;
}

/** Failure types whose messages are written for the caller; anything else may carry internals (paths, stacks). */
const USER_FACING_TYPES: ReadonlySet<string> = new Set(Object.values(ERROR_TYPES));

/** What a failed step tells whoever watches it (`get_current_step`, the generation's `current_step`). */
function stepFailureMessage(failure: unknown): string {
  if (failure instanceof ApplicationFailure && failure.type && USER_FACING_TYPES.has(failure.type)) return failure.message;
  return 'The step failed unexpectedly.';
}

export class GenerationRun {
  status: WorkflowStatus = 'pending';
  current: StepProgress | null = null;
  readonly completedSteps: string[] = [];

  constructor() {
    setHandler(getStatusQuery, () => this.status);
    setHandler(getCurrentStepQuery, () => this.current);
  }

  /** Auth check (raw secret or this workflow's token), then validation of the whole input. */
  async start<S extends z.ZodType>(schema: S, raw: unknown): Promise<z.infer<S>> {
    const record = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
    const secretKey = record.secret_key;
    if (secretKey !== undefined && secretKey !== null && typeof secretKey !== 'string') {
      throw ApplicationFailure.create({ message: AUTH_ERRORS.invalid, type: ERROR_TYPES.auth, nonRetryable: true });
    }
    try {
      await verifyWorkflowAuth(secretKey ?? null);
    } catch (err) {
      throw asWorkflowFailure(err);
    }
    const parsed = schema.safeParse(raw ?? {});
    if (!parsed.success) {
      const issues = formatIssues(parsed.error);
      throw ApplicationFailure.create({
        message: `Invalid input: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        type: ERROR_TYPES.invalidInput,
        nonRetryable: true,
        details: [issues],
      });
    }
    this.status = 'running';
    return parsed.data;
  }

  /** Checks every model request the workflow will make before the first paid call (InvalidInputError if not). */
  async validateModels(requests: Parameters<GenerationActivities['validateModelRequests']>[0]): Promise<void> {
    try {
      await validateModelRequests(requests);
    } catch (err) {
      this.status = 'failed';
      throw asWorkflowFailure(err);
    }
  }

  /** Runs one step: the current step is `running` at the step's start percentage, then `completed` or `failed`. */
  async step<T>(def: StepDefinition, fn: () => Promise<T>, message?: string): Promise<T> {
    this.current = { step_id: def.id, step_name: def.name, status: 'running', progress_pct: def.pct, message: message || `${def.name}...` };
    try {
      const result = await fn();
      this.current = { ...this.current, status: 'completed' };
      this.completedSteps.push(def.id);
      return result;
    } catch (err) {
      const failure = asWorkflowFailure(err);
      const cancelled = isCancellation(err);
      this.current = {
        ...this.current,
        status: cancelled ? 'cancelled' : 'failed',
        message: cancelled ? 'Cancelled' : stepFailureMessage(failure),
      };
      throw failure;
    }
  }

  complete(): void {
    this.status = 'completed';
    this.current = { ...COMPLETE_STEP };
  }

  /** Wraps a workflow body: records failed/cancelled status and turns activity failures into workflow failures. */
  async execute<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      if (isCancellation(err) || CancellationScope.current().consideredCancelled) {
        this.status = 'cancelled';
        if (this.current && this.current.status === 'running') this.current = { ...this.current, status: 'cancelled', message: 'Cancelled' };
        throw err;
      }
      this.status = 'failed';
      throw asWorkflowFailure(err);
    }
  }
}
