/**
 * Activity option sets shared by the workflows (the Python system's retry policies, plus non-retryable error types),
 * chosen per activity so that a worker killed mid-step is noticed in seconds: every activity that can run long
 * heartbeats, and its heartbeat timeout, not its start-to-close timeout, is what notices the dead worker. The
 * activities heartbeat every second (`ACTIVITY_HEARTBEAT_MS`) and the workers send at most one heartbeat a second
 * (`drainOptions` in packages/worker-runtime), so a 5-6 s timeout leaves room for five missed beats on a loaded
 * machine. apps/generation-worker/test/faults.test.ts kills each worker at each Ruby step and times the recovery.
 */
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
import { ERROR_TYPES } from '@gptmarket/contracts';

export const NON_RETRYABLE = [ERROR_TYPES.invalidInput, ERROR_TYPES.auth];

/** FAST_RETRY: 1 s initial, 3 attempts. For short calls that do not heartbeat: `startToCloseTimeout` bounds a lost attempt. */
export const fast = (startToCloseTimeout: ActivityOptions['startToCloseTimeout']): ActivityOptions => ({
  startToCloseTimeout,
  retry: { initialInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** FAST_RETRY for calls that heartbeat while they wait (the Ruby prompt LLM calls): a dead worker is noticed in 5 s. */
export const fastBeating = (startToCloseTimeout: ActivityOptions['startToCloseTimeout']): ActivityOptions => ({
  ...fast(startToCloseTimeout),
  heartbeatTimeout: '5s',
});

/** Writing a small JSON document (the provenance manifest): seconds at most, so a lost attempt is retried after 10 s. */
export const smallWrite: ActivityOptions = fast('10s');

/**
 * Paid provider calls, with heartbeats and cancellation that waits for the provider job to be cancelled. The retry
 * starts after 2 s (the Python system's SLOW_RETRY waited 5 s), doubling up to 10 min, 3 attempts: a retried attempt
 * resumes the job its predecessor created (the prediction id in the heartbeat details), so retrying sooner costs
 * nothing, and a provider's Retry-After still sets its own delay.
 */
export const paid = (
  startToCloseTimeout: ActivityOptions['startToCloseTimeout'],
  heartbeatTimeout: ActivityOptions['heartbeatTimeout'] = '5s',
): ActivityOptions => ({
  startToCloseTimeout,
  heartbeatTimeout,
  retry: { initialInterval: '2s', maximumInterval: '10m', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/**
 * Activities of the media worker (FFmpeg) on its own queue (the worker's MEDIA_TASK_QUEUE, see `GenerationRun.media`).
 * The media worker marks bad input (undecodable media, a missing font, a refused URL) non-retryable itself; other
 * media errors (a dropped download, a killed worker) retry after 1 s. `scheduleToStartTimeout` bounds how long a task
 * waits for a media worker; the heartbeat timeout (6 s: FFmpeg competes with the worker for the CPU) notices a dead one.
 */
export const mediaOptions = (
  startToCloseTimeout: ActivityOptions['startToCloseTimeout'],
  taskQueue: string,
  scheduleToStartTimeout: ActivityOptions['scheduleToStartTimeout'],
): ActivityOptions => ({
  taskQueue,
  startToCloseTimeout,
  scheduleToStartTimeout,
  heartbeatTimeout: '6s',
  retry: { initialInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/** The message of an activity failure (its cause's), for reports such as `failed_uploads`. */
export function failureMessage(err: unknown): string {
  const e = err as { cause?: { message?: string }; message?: string };
  return (e?.cause?.message || e?.message || String(err)).slice(0, 500);
}
