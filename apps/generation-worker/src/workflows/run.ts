/**
 * The workflow-side machinery every generation shares (the Python `WorkflowContext`): status and current
 * step behind the `get_status` / `get_current_step` queries, the auth check, input validation, and steps.
 * Imports only contracts and the workflow SDK.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  defineQuery,
  upsertMemo,
  workflowInfo,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import {
  AUTH_ERRORS,
  COMPLETE_STEP,
  DEFAULT_WORKER_SETTINGS,
  ERROR_TYPES,
  GENERATOR_NAME,
  PROGRESS_MEMO_KEY,
  PROGRESS_MEMO_PATCH,
  QUERY_GET_CURRENT_STEP,
  ModelInputError,
  QUERY_GET_STATUS,
  checkModelRequest,
  formatIssues,
  type GenerationActivities,
  type MediaActivities,
  type ModelRequest,
  type StepDefinition,
  type StepProgress,
  type WorkerSettings,
  type WorkflowProgressMemo,
  type WorkflowStatus,
  type Contract,
  type ContractOutput,
} from '@gptmarket/contracts';
import { mediaOptions, smallWrite } from './options.js';

export const getStatusQuery = defineQuery<WorkflowStatus>(QUERY_GET_STATUS);
export const getCurrentStepQuery = defineQuery<StepProgress | null>(QUERY_GET_CURRENT_STEP);

const localOptions: LocalActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: [ERROR_TYPES.auth, ERROR_TYPES.invalidInput] },
};
const { verifyWorkflowAuth } = proxyLocalActivities<Pick<GenerationActivities, 'verifyWorkflowAuth'>>(localOptions);

/**
 * The model check ran in a local activity (`validateModelRequests`) before it moved into workflow code. Histories from
 * then hold its marker, and replay needs the same call to match it (without, replay fails: "Missing associated machine
 * for LocalActivity"); `patched()` tells those replays from new runs, which record the patch instead. Replay takes the
 * answer from the marker and never runs the activity, so no worker implements it. Once no such history can be replayed
 * (every workflow started before this release has closed and passed retention), switch to `deprecatePatch` and drop
 * the old call.
 */
const MODEL_CHECK_IN_WORKFLOW = 'model-check-in-workflow';
const legacyModelCheck = proxyLocalActivities<{ validateModelRequests(requests: ModelRequest[]): Promise<string[]> }>(localOptions);

const { saveJson } = proxyActivities<Pick<GenerationActivities, 'saveJson'>>(smallWrite);

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

/** A media task waits this long in silence (a busy media worker takes it soon); then the step says it is waiting. */
const MEDIA_NOTICE_SECONDS = 30;
export const WAITING_FOR_MEDIA_WORKER = 'Waiting for a media worker...';

/** True when an activity failed because no worker picked its task up in time (nothing ran). */
const notPickedUp = (err: unknown) =>
  err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_START';
const humanSeconds = (s: number) => (s >= 120 && s % 60 === 0 ? `${s / 60} minutes` : `${s} seconds`);

/** Failure types whose messages are written for the caller; anything else may carry internals (paths, stacks). */
const USER_FACING_TYPES: ReadonlySet<string> = new Set(Object.values(ERROR_TYPES));

/** What a failed step tells whoever watches it (`get_current_step`, the generation's `current_step`). */
function stepFailureMessage(failure: unknown): string {
  if (failure instanceof ApplicationFailure && failure.type && USER_FACING_TYPES.has(failure.type)) return failure.message;
  return 'The step failed unexpectedly.';
}

export class GenerationRun {
  private state: WorkflowStatus = 'pending';
  private step_: StepProgress | null = null;

  /** The `get_status` answer; every change is also pushed in the memo (see `PROGRESS_MEMO_KEY`). */
  get status(): WorkflowStatus {
    return this.state;
  }
  set status(value: WorkflowStatus) {
    if (value === this.state) return;
    this.state = value;
    this.pushProgress();
  }

  /** The `get_current_step` answer; every change is also pushed in the memo. */
  get current(): StepProgress | null {
    return this.step_;
  }
  set current(value: StepProgress | null) {
    this.step_ = value;
    this.pushProgress();
  }
  readonly completedSteps: string[] = [];
  /** The worker's settings, as the auth check answered them (the defaults in histories from before it did). */
  settings: WorkerSettings = DEFAULT_WORKER_SETTINGS;

  /** Whether model params are checked in workflow code (every run since that release) or by the old local activity. */
  private readonly modelCheckInWorkflow: boolean;

  /** Whether this run pushes its progress in the memo (every run since that release; replays of older ones do not). */
  private readonly progressInMemo: boolean;

  /**
   * `checksModels`: the workflow calls `validateModels`. Its patch is decided here, before the first command, so
   * the marker's place in the history never depends on when the auth local activity resolved. (With the patch
   * decided after that activity, queries under heavy load once failed as nondeterministic on its marker; not
   * reproduced since, see test/replay.test.ts, which replays on every activation.)
   */
  constructor(opts: { checksModels?: boolean } = {}) {
    setHandler(getStatusQuery, () => this.status);
    setHandler(getCurrentStepQuery, () => this.current);
    this.modelCheckInWorkflow = opts.checksModels ? patched(MODEL_CHECK_IN_WORKFLOW) : true;
    this.progressInMemo = patched(PROGRESS_MEMO_PATCH);
  }

  /**
   * Rewrites the progress memo: one WorkflowPropertiesModified event in the history, which the gateway's long poll of
   * the history receives as it is written (no query, no worker round trip). Several changes in one activation write
   * several events; the last one holds the state the activation ended with.
   */
  private pushProgress(): void {
    if (!this.progressInMemo) return;
    const memo: WorkflowProgressMemo = { status: this.state, current_step: this.step_ };
    upsertMemo({ [PROGRESS_MEMO_KEY]: memo });
  }

  /** Auth check (raw secret or this workflow's token), then validation of the whole input. */
  async start<S extends Contract>(schema: S, raw: unknown): Promise<ContractOutput<S>> {
    const record = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
    const secretKey = record.secret_key;
    if (secretKey !== undefined && secretKey !== null && typeof secretKey !== 'string') {
      throw ApplicationFailure.create({ message: AUTH_ERRORS.invalid, type: ERROR_TYPES.auth, nonRetryable: true });
    }
    try {
      this.settings = (await verifyWorkflowAuth(secretKey ?? null)) ?? DEFAULT_WORKER_SETTINGS;
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

  /**
   * Checks every model request the workflow will make before the first paid call (InvalidInputError if not);
   * returns the warnings for parameters a model does not know (they are dropped). Pure workflow code: the model
   * registry is in contracts.
   */
  async validateModels(requests: ModelRequest[]): Promise<string[]> {
    if (!this.modelCheckInWorkflow) {
      // Only when replaying a history from before the check moved here: its answer is in the history.
      try {
        return (await legacyModelCheck.validateModelRequests(requests)) ?? [];
      } catch (err) {
        this.status = 'failed';
        throw asWorkflowFailure(err);
      }
    }
    try {
      return requests.flatMap(checkModelRequest);
    } catch (err) {
      if (!(err instanceof ModelInputError)) throw err;
      this.status = 'failed';
      throw ApplicationFailure.create({ message: `Invalid input: ${err.message}`, type: ERROR_TYPES.invalidInput, nonRetryable: true });
    }
  }

  /** Runs one step: the current step is `running` at the step's start percentage, then `completed` or `failed`. */
  async step<T>(def: StepDefinition, fn: () => Promise<T>): Promise<T> {
    this.current = { step_id: def.id, step_name: def.name, status: 'running', progress_pct: def.pct, message: `${def.name}...` };
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

  /**
   * The image and video activities (call after `start`) with these options, on the queue the worker named for them:
   * a generation worker with a Replicate key serves them on a queue of their own, whose server-side dispatch rate is
   * the account-wide create rate (`PROVIDER_RATE_REPLICATE`, for every worker replica together; see
   * apps/generation-worker/src/worker.ts). The queue comes from the auth check's answer, recorded in the history, so
   * a replay schedules each activity on the queue its first run used; runs whose answer names no such queue (workers
   * without a Replicate key, histories from before) keep them on the workflow's own queue, through `sameQueue`, the
   * workflow's module-level proxy. (A proxy made here for every run made test/replay.test.ts's query polling miss a
   * step in each of 4 runs under load, cause not found; the module-level proxy passed each of 5.)
   */
  imageVideo<T extends Partial<GenerationActivities>>(sameQueue: T, options: ActivityOptions): T {
    const queue = this.settings.image_video_task_queue;
    return queue ? (proxyActivities<GenerationActivities>({ ...options, taskQueue: queue }) as unknown as T) : sameQueue;
  }

  /**
   * The media worker's activities (call after `start`), on the media queue the worker named. A task nobody picks up
   * within MEDIA_NOTICE_SECONDS is scheduled once more for the rest of the wait, and the running step's message
   * says it waits for a media worker; when the whole wait passes with no media worker, the step fails with a
   * MediaError instead of waiting forever. Once a worker has the task, only `startToCloseTimeout` bounds it.
   */
  media(startToCloseTimeout: ActivityOptions['startToCloseTimeout'] = '10m'): MediaActivities {
    const { media_task_queue: queue, media_wait_seconds: wait } = this.settings;
    const notice = Math.min(MEDIA_NOTICE_SECONDS, wait / 3);
    const first = proxyActivities<MediaActivities>(mediaOptions(startToCloseTimeout, queue, Math.round(notice * 1000)));
    const rest = proxyActivities<MediaActivities>(mediaOptions(startToCloseTimeout, queue, Math.round((wait - notice) * 1000)));
    const call = (proxy: MediaActivities, name: keyof MediaActivities, arg: unknown) =>
      (proxy[name] as (a: unknown) => Promise<unknown>)(arg);
    const bounded = (name: keyof MediaActivities) => async (arg: unknown) => {
      try {
        return await call(first, name, arg);
      } catch (err) {
        if (!notPickedUp(err)) throw err;
      }
      log.warn('no media worker has taken the task yet', {
        activity: name,
        taskQueue: queue,
        waitedSeconds: notice,
        giveUpAfterSeconds: wait,
      });
      if (this.current?.status === 'running') this.current = { ...this.current, message: WAITING_FOR_MEDIA_WORKER };
      try {
        return await call(rest, name, arg);
      } catch (err) {
        if (!notPickedUp(err)) throw err;
        log.error('no media worker took the task: is a media worker running on this task queue (MEDIA_TASK_QUEUE)?', {
          activity: name,
          taskQueue: queue,
          waitedSeconds: wait,
        });
        throw ApplicationFailure.create({
          message: `No media worker became available within ${humanSeconds(wait)}, so this step could not run. Please try again later.`,
          type: ERROR_TYPES.media,
          nonRetryable: true,
        });
      }
    };
    return {
      renderVideo: bounded('renderVideo'),
      probeMedia: bounded('probeMedia'),
      extractAudio: bounded('extractAudio'),
    } as MediaActivities;
  }

  /**
   * The provenance record beside a run's media, `<area>/manifests/<workflow id>.json`: the generator, the workflow and
   * its output; `aiGenerated` labels the media AI-made.
   */
  async saveManifest(area: string, output: unknown, opts: { aiGenerated: boolean }): Promise<void> {
    const workflowId = workflowInfo().workflowId;
    await saveJson({
      folder: `${area}/manifests`,
      name: workflowId,
      data: { ...(opts.aiGenerated ? { ai_generated: true } : {}), generator: GENERATOR_NAME, workflow_id: workflowId, output },
    });
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
        if (this.current && this.current.status === 'running')
          this.current = { ...this.current, status: 'cancelled', message: 'Cancelled' };
        throw err;
      }
      this.status = 'failed';
      throw asWorkflowFailure(err);
    }
  }
}
