/** Tiny workflows for the paid-job tests: one activity each, with a short heartbeat timeout so retries come fast. */
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { GenerationActivities, ImageRequest, VideoRequest } from '@gptmarket/contracts';

const paid = proxyActivities<GenerationActivities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '2s',
  retry: { initialInterval: '200ms', backoffCoefficient: 1, maximumAttempts: 5, nonRetryableErrorTypes: ['InvalidInputError', 'AuthenticationError'] },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

export async function PaidVideoWorkflow(req: VideoRequest) {
  return paid.generateVideo(req);
}

export async function PaidImageWorkflow(req: ImageRequest) {
  return paid.generateImage(req);
}
