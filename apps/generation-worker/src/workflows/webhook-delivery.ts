import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import { WEBHOOK_QUEUE, type WebhookActivities, type WebhookDeliveryInput } from '@gptmarket/contracts';

/**
 * `WebhookDeliveryWorkflow`: at-least-once delivery of one webhook event. The attempt runs on the gateway's
 * webhook queue (it owns the signing secret and the delivery records); Temporal keeps retrying across
 * gateway and worker restarts.
 */
export async function WebhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<void> {
  const { deliverWebhook } = proxyActivities<WebhookActivities>({
    taskQueue: WEBHOOK_QUEUE,
    startToCloseTimeout: '30s',
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '10m',
      maximumAttempts: Math.max(1, Math.min(input.max_attempts, 100)),
    },
  });
  const { markWebhookFailed } = proxyActivities<WebhookActivities>({
    taskQueue: WEBHOOK_QUEUE,
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 20 },
  });
  try {
    await deliverWebhook(input.delivery_id);
  } catch (err) {
    const reason = err instanceof ActivityFailure ? (err.cause?.message ?? err.message) : String(err);
    await markWebhookFailed(input.delivery_id, reason.slice(0, 500));
    throw ApplicationFailure.nonRetryable(
      `webhook delivery ${input.delivery_id} gave up: ${reason.slice(0, 200)}`,
      'WebhookDeliveryFailed',
    );
  }
}
