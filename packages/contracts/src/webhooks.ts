/** Webhook delivery: a workflow in the generation worker retries an activity served by the gateway. */
export const WEBHOOK_QUEUE = 'webhook-queue';
export const WEBHOOK_DELIVERY_WORKFLOW = 'WebhookDeliveryWorkflow';

export interface WebhookDeliveryInput {
  delivery_id: string;
  /** Attempts before the delivery is given up (spread over hours by exponential backoff). */
  max_attempts: number;
}

export interface WebhookActivities {
  /** Signs and POSTs the generation object; throws (retryably) on anything but a 2xx. */
  deliverWebhook(deliveryId: string): Promise<{ status_code: number }>;
  /** Records that a delivery was given up after its last attempt. */
  markWebhookFailed(deliveryId: string, reason: string): Promise<void>;
}
