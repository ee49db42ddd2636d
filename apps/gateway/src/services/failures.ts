import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import { ERROR_TYPES, type GenerationError } from '@gptmarket/contracts';

/** The error code a generation shows for each ApplicationFailure type our workflows and activities raise. */
const ERROR_CODE_BY_TYPE: Record<string, string> = {
  [ERROR_TYPES.auth]: 'auth_failed',
  [ERROR_TYPES.invalidInput]: 'invalid_input',
  [ERROR_TYPES.provider]: 'provider_error',
  [ERROR_TYPES.media]: 'media_error',
  [ERROR_TYPES.storage]: 'storage_error',
};

/** What a failed workflow tells the end user: our typed messages, or a generic one for anything unexpected. */
export function describeFailure(err: unknown, stepId: string | null): GenerationError {
  const cause = err instanceof WorkflowFailedError ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.type && ERROR_CODE_BY_TYPE[cause.type]) {
    return { code: ERROR_CODE_BY_TYPE[cause.type]!, message: cause.message.slice(0, 1000), step_id: stepId };
  }
  if (cause instanceof TimeoutFailure) return { code: 'timed_out', message: 'The generation timed out.', step_id: stepId };
  if (cause instanceof TerminatedFailure)
    return { code: 'terminated', message: 'The generation was terminated by an operator.', step_id: stepId };
  return { code: 'internal', message: 'The generation failed unexpectedly.', step_id: stepId };
}
