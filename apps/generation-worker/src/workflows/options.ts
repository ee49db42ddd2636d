/** Activity option sets shared by the workflows (the Python system's retry policies, plus non-retryable error types). */
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
import { ERROR_TYPES } from '@gptmarket/contracts';

export const NON_RETRYABLE = [ERROR_TYPES.invalidInput, ERROR_TYPES.auth];

/** FAST_RETRY: 1 s initial, 3 attempts. */
export const fast = (startToCloseTimeout: ActivityOptions['startToCloseTimeout']): ActivityOptions => ({
  startToCloseTimeout,
  retry: { initialInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** SLOW_RETRY for paid provider calls, with heartbeats and cancellation that waits for the provider job to be cancelled. */
export const paid = (
  startToCloseTimeout: ActivityOptions['startToCloseTimeout'],
  heartbeatTimeout: ActivityOptions['heartbeatTimeout'] = '60s',
): ActivityOptions => ({
  startToCloseTimeout,
  heartbeatTimeout,
  retry: { initialInterval: '5s', maximumInterval: '10m', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/**
 * Activities of the media worker (FFmpeg) on its own queue (the worker's MEDIA_TASK_QUEUE, see `GenerationRun.media`).
 * The media worker marks bad input (undecodable media, a missing font, a refused URL) non-retryable itself; other
 * media errors (a dropped download) retry. `scheduleToStartTimeout` bounds how long a task waits for a media worker.
 */
export const mediaOptions = (
  startToCloseTimeout: ActivityOptions['startToCloseTimeout'],
  taskQueue: string,
  scheduleToStartTimeout: ActivityOptions['scheduleToStartTimeout'],
): ActivityOptions => ({
  taskQueue,
  startToCloseTimeout,
  scheduleToStartTimeout,
  heartbeatTimeout: '30s',
  retry: { initialInterval: '2s', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/** The message of an activity failure (its cause's), for reports such as `failed_uploads`. */
export function failureMessage(err: unknown): string {
  const e = err as { cause?: { message?: string }; message?: string };
  return (e?.cause?.message || e?.message || String(err)).slice(0, 500);
}
