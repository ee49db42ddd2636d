/**
 * How the generation worker's activities fail: a provider's or the guarded network's error becomes the
 * ApplicationFailure Temporal sees, retryable as the error was classified (the one rule of packages/worker-runtime).
 */
import { ApplicationFailure } from '@temporalio/activity';
import { ERROR_TYPES } from '@gptmarket/contracts';
import { OutboundRequestError } from '@gptmarket/runtime';
import { ProviderError } from '@gptmarket/providers';
import { activityFailure } from '@gptmarket/worker-runtime';

const prefixed = (what: string | undefined, message: string) => (what ? `${what}: ${message}` : message);

/** A ProviderError as a ProviderError failure: provider, code and status in its details; Retry-After honoured. */
export function providerFailure(err: ProviderError, what?: string): ApplicationFailure {
  return activityFailure(prefixed(what, err.message), ERROR_TYPES.provider, {
    retryable: err.retryable,
    retryAfterMs: err.retryAfterMs,
    details: [{ provider: err.provider, code: err.code, status: err.status ?? null }],
  });
}

/**
 * ProviderError → `providerFailure`; a guarded download's OutboundRequestError → a `downloadType` failure (a
 * StorageError unless the download is a provider's output); an ApplicationFailure or anything else unchanged.
 */
export function toActivityFailure(err: unknown, what?: string, downloadType: string = ERROR_TYPES.storage): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof ProviderError) return providerFailure(err, what);
  if (err instanceof OutboundRequestError) {
    return activityFailure(prefixed(what, err.message), downloadType, {
      retryable: err.retryable,
      details: [{ code: err.publicCode, status: err.status ?? null }],
    });
  }
  return err;
}
