/** The auth local activity every workflow runs first: the workflow's token (or the raw secret) checked, the worker's settings answered. */
import { Context } from '@temporalio/activity';
import { AUTH_ERRORS, DEFAULT_WORKER_SETTINGS, ERROR_TYPES, type GenerationActivities } from '@gptmarket/contracts';
import { checkWorkflowSecret } from '@gptmarket/runtime';
import { nonRetryable } from '@gptmarket/worker-runtime';
import type { GenerationActivityDeps } from './deps.js';

export function createAuthActivities(
  deps: Pick<GenerationActivityDeps, 'secrets' | 'settings'>,
): Pick<GenerationActivities, 'verifyWorkflowAuth'> {
  return {
    async verifyWorkflowAuth(secretKey) {
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
      switch (checkWorkflowSecret(deps.secrets, secretKey, workflowId)) {
        case 'ok':
        case 'disabled':
          return deps.settings ?? DEFAULT_WORKER_SETTINGS;
        case 'missing':
          throw nonRetryable(AUTH_ERRORS.missing, ERROR_TYPES.auth);
        case 'invalid':
          throw nonRetryable(AUTH_ERRORS.invalid, ERROR_TYPES.auth);
        case 'not_configured':
          throw nonRetryable(AUTH_ERRORS.notConfigured, ERROR_TYPES.auth);
      }
    },
  };
}
