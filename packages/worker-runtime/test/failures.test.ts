import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { activityFailure, nonRetryable } from '../src/index.js';

describe('activity failures', () => {
  it('a retryable failure waits the Retry-After it was given before the next attempt', () => {
    const f = activityFailure('busy', 'ProviderError', { retryable: true, retryAfterMs: 1500, details: [{ code: 'rate_limited' }] });
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect(f).toMatchObject({
      message: 'busy',
      type: 'ProviderError',
      nonRetryable: false,
      nextRetryDelay: 1500,
      details: [{ code: 'rate_limited' }],
    });
  });

  it('a non-retryable failure never carries a retry delay', () => {
    const f = activityFailure('bad key', 'ProviderError', { retryable: false, retryAfterMs: 1500 });
    expect(f.nonRetryable).toBe(true);
    expect(f.nextRetryDelay).toBeUndefined();
  });

  it('a retryable failure without Retry-After leaves the delay to the retry policy', () => {
    expect(activityFailure('dropped', 'MediaError', { retryable: true }).nextRetryDelay).toBeUndefined();
  });

  it('nonRetryable keeps its details only when given', () => {
    expect(nonRetryable('too big', 'InvalidInputError', [{ code: 'too_large' }])).toMatchObject({
      nonRetryable: true,
      type: 'InvalidInputError',
      details: [{ code: 'too_large' }],
    });
    expect(nonRetryable('too big', 'InvalidInputError').details).toBeUndefined();
  });
});
