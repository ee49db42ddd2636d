import { ApplicationFailure } from '@temporalio/common';

/**
 * The one way an activity of either worker fails on purpose: an ApplicationFailure of one of the contracts' error
 * types (`ERROR_TYPES`). The one retry-delay rule: a retryable failure waits `retryAfterMs` (a provider's
 * Retry-After) before the next attempt when it is known; a non-retryable one never carries a delay.
 */
export function activityFailure(
  message: string,
  type: string,
  opts: { retryable: boolean; retryAfterMs?: number | undefined; details?: unknown[] | undefined },
): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type,
    nonRetryable: !opts.retryable,
    ...(opts.details ? { details: opts.details } : {}),
    ...(opts.retryable && opts.retryAfterMs !== undefined ? { nextRetryDelay: opts.retryAfterMs } : {}),
  });
}

/** A failure retrying cannot fix (bad input, a refused URL, a missing font). */
export const nonRetryable = (message: string, type: string, details?: unknown[]): ApplicationFailure =>
  activityFailure(message, type, { retryable: false, details });
