/**
 * Workflow interceptors, bundled into the workflow sandbox (so this file imports only `@temporalio/workflow` and
 * contracts): the generation id from the workflow's memo goes on the workflow's log lines and, in a header, to
 * every activity it schedules (see `packages/contracts/src/observability.ts`).
 */
import { GENERATION_ID_HEADER, GENERATION_ID_MEMO } from '@gptmarket/contracts';
import { defaultPayloadConverter, workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export const interceptors: WorkflowInterceptorsFactory = () => {
  const generationId = (): string | undefined => {
    const id = workflowInfo().memo?.[GENERATION_ID_MEMO];
    return typeof id === 'string' ? id : undefined;
  };
  const withHeader = <T extends { headers: Record<string, unknown> }>(input: T): T => {
    const id = generationId();
    return id ? { ...input, headers: { ...input.headers, [GENERATION_ID_HEADER]: defaultPayloadConverter.toPayload(id) } } : input;
  };
  return {
    outbound: [
      {
        scheduleActivity: (input, next) => next(withHeader(input)),
        scheduleLocalActivity: (input, next) => next(withHeader(input)),
        getLogAttributes: (input, next) => {
          const id = generationId();
          return next(id ? { ...input, generation_id: id } : input);
        },
      },
    ],
  };
};
