/** Tiny workflows for the paid-job tests: one activity each, with a short heartbeat timeout so retries come fast. */
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { GenerationActivities, ImageRequest, VideoRequest } from '@gptmarket/contracts';

const paid = proxyActivities<GenerationActivities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '4s',
  retry: {
    initialInterval: '200ms',
    backoffCoefficient: 1,
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['InvalidInputError', 'AuthenticationError'],
  },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

export async function PaidVideoWorkflow(req: VideoRequest) {
  return paid.generateVideo(req);
}

export async function PaidImageWorkflow(req: ImageRequest) {
  return paid.generateImage(req);
}

/** The model registry is sandbox-safe: a workflow can validate a paid call's params before anything is paid. */
import { buildPrediction } from '@gptmarket/providers/models';
export async function ValidateModelWorkflow(model: string, params: Record<string, unknown>, category: 'image' | 'video') {
  try {
    return { ok: true as const, prediction: buildPrediction(model, params, category) };
  } catch (err) {
    return { ok: false as const, error: (err as Error).message, name: (err as Error).name };
  }
}
