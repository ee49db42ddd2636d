import { createHmac } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { eq, sql } from 'drizzle-orm';
import { ApplicationFailure } from '@temporalio/common';
import { WEBHOOK_DELIVERY_WORKFLOW, type WebhookActivities, type WebhookDeliveryInput } from '@gptmarket/contracts';
import { generations, webhookDeliveries, type Database } from '@gptmarket/db';
import {
  OutboundRequestError,
  isAddressPermitted,
  isHostAllowed,
  metrics,
  parseHostLiteral,
  safeRequest,
  type Logger,
  type OutboundPolicy,
} from '@gptmarket/runtime';
import { ApiError } from '../errors.js';
import type { GenerationRecords } from './generation-records.js';
import type { TemporalGateway } from './temporal.js';

/** `v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>` (docs/api.md, "Webhooks"). */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64')}`;
}

/** Refuses webhook URLs that point at private, loopback, link-local or metadata addresses (unless allowed). */
export async function assertDeliverableUrl(raw: string, policy: OutboundPolicy): Promise<void> {
  const bad = (message: string) =>
    new ApiError(400, 'validation_failed', 'the webhook URL is not allowed', [{ path: 'webhook_url', message }]);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw bad('is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('must be http or https');
  if (url.username || url.password) throw bad('must not carry credentials');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (isHostAllowed(policy, host, port)) return;
  const literal = parseHostLiteral(host);
  if (literal) {
    if (!isAddressPermitted(policy, literal)) throw bad('is not a public address');
    return;
  }
  // A name that resolves privately and a name that does not resolve get the same answer: the API must not
  // tell callers which internal names exist.
  const addresses = await lookup(host, { all: true }).then(
    (answers) => answers.map((a) => a.address),
    () => [],
  );
  if (addresses.length === 0 || addresses.some((a) => !isAddressPermitted(policy, a)))
    throw bad('its host does not resolve to a public address');
}

export interface WebhookDeps {
  db: Database;
  temporal: TemporalGateway;
  /** Makes the body: the generation as the API shows it. */
  records: GenerationRecords;
  /** The generation workers' task queue (TEMPORAL_TASK_QUEUE): the delivery workflow runs there. */
  taskQueue: string;
  secret: string;
  policy: OutboundPolicy;
  maxAttempts: number;
  log: Logger;
}

/** Hands recorded deliveries to Temporal (idempotently: one workflow per delivery id). */
export async function dispatchPendingWebhooks(deps: WebhookDeps): Promise<number> {
  const pending = await deps.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.status, 'pending')).limit(100);
  if (pending.length === 0) return 0;
  const client = await deps.temporal.get();
  for (const d of pending) {
    const input: WebhookDeliveryInput = { delivery_id: d.id, max_attempts: deps.maxAttempts };
    await client.workflow.start(WEBHOOK_DELIVERY_WORKFLOW, {
      taskQueue: deps.taskQueue,
      workflowId: `webhook-${d.id}`,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    await deps.db.update(webhookDeliveries).set({ status: 'dispatched', updatedAt: new Date() }).where(eq(webhookDeliveries.id, d.id));
  }
  return pending.length;
}

/**
 * Runs `dispatchPendingWebhooks` when kicked (a generation with a webhook reached a terminal state), one run at a
 * time; a kick during a run makes one more run after it, so no recorded delivery waits for the next sweep.
 */
export class WebhookDispatcher {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(private readonly deps: WebhookDeps) {}

  kick(): void {
    void this.run();
  }

  async run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await dispatchPendingWebhooks(this.deps).catch((err: Error) =>
          this.deps.log.warn('webhook dispatch failed', { error: err.message }),
        );
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }
}

/** The activities the gateway serves on the webhook queue. */
export function createWebhookActivities(deps: WebhookDeps): WebhookActivities {
  return {
    async deliverWebhook(deliveryId) {
      const [delivery] = await deps.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId));
      if (!delivery) throw ApplicationFailure.nonRetryable(`no webhook delivery ${deliveryId}`, 'WebhookNotFound');
      if (delivery.status === 'delivered') return { status_code: delivery.lastStatusCode ?? 200 };
      const [row] = await deps.db.select().from(generations).where(eq(generations.id, delivery.generationId));
      if (!row) throw ApplicationFailure.nonRetryable(`generation ${delivery.generationId} is gone`, 'WebhookNotFound');
      const body = JSON.stringify(await deps.records.toApi(row));
      const timestamp = Math.floor(Date.now() / 1000);
      const record = (patch: Partial<typeof webhookDeliveries.$inferInsert>) =>
        deps.db
          .update(webhookDeliveries)
          .set({ ...patch, attempts: sql`${webhookDeliveries.attempts} + 1`, updatedAt: new Date() })
          .where(eq(webhookDeliveries.id, deliveryId));
      let status: number;
      try {
        const res = await safeRequest(delivery.url, {
          policy: deps.policy,
          method: 'POST',
          body,
          timeoutMs: 15_000,
          maxRedirects: 0,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'GPTMarket-Generator-Webhooks/1',
            'webhook-id': delivery.id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signWebhook(deps.secret, delivery.id, timestamp, body),
          },
        });
        status = res.status;
        res.body.resume();
      } catch (err) {
        const message = err instanceof OutboundRequestError ? `${err.code}: ${err.message}` : (err as Error).message;
        await record({ lastError: message.slice(0, 500) });
        metrics.webhookDeliveries.inc({ outcome: 'unreachable' });
        if (err instanceof OutboundRequestError && !err.retryable && err.code === 'blocked_address') {
          throw ApplicationFailure.nonRetryable(message, 'WebhookBlocked');
        }
        throw ApplicationFailure.retryable(message, 'WebhookDeliveryError');
      }
      if (status >= 200 && status < 300) {
        await record({ status: 'delivered', lastStatusCode: status, lastError: null, deliveredAt: new Date() });
        deps.log.info('webhook delivered', { deliveryId, status });
        metrics.webhookDeliveries.inc({ outcome: 'delivered' });
        return { status_code: status };
      }
      await record({ lastStatusCode: status, lastError: `HTTP ${status}` });
      metrics.webhookDeliveries.inc({ outcome: 'refused' });
      // 410 Gone means the receiver asks us to stop.
      if (status === 410) throw ApplicationFailure.nonRetryable(`the receiver answered ${status}`, 'WebhookGone');
      throw ApplicationFailure.retryable(`the receiver answered ${status}`, 'WebhookDeliveryError');
    },

    async markWebhookFailed(deliveryId, reason) {
      await deps.db
        .update(webhookDeliveries)
        .set({ status: 'failed', lastError: reason.slice(0, 500), updatedAt: new Date() })
        .where(eq(webhookDeliveries.id, deliveryId));
      deps.log.warn('webhook delivery gave up', { deliveryId });
      metrics.webhookDeliveries.inc({ outcome: 'gave_up' });
    },
  };
}
