import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { Cost, GenerationError, Metadata, StepProgress, WorkflowStatus } from '@gptmarket/contracts';

/** One row per generation request: the job record the gateway serves (docs/api.md "The generation object"). */
export const generations = pgTable(
  'generations',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    workflowType: text('workflow_type').notNull(),
    workflowId: text('workflow_id').notNull(),
    status: text('status').$type<WorkflowStatus>().notNull(),
    currentStep: jsonb('current_step').$type<StepProgress>(),
    /** The validated input, without `secret_key`. */
    input: jsonb('input').$type<Record<string, unknown>>().notNull(),
    /** The workflow's output as it returned it (its media URLs may be presigned and expire). */
    output: jsonb('output').$type<Record<string, unknown>>(),
    /**
     * The storage key behind each media URL of `output`, by JSON Pointer (RFC 6901), e.g. `{"/final_video_url": "ruby/videos/…"}`:
     * reads hand out fresh URLs for these keys.
     */
    outputKeys: jsonb('output_keys').$type<Record<string, string>>(),
    error: jsonb('error').$type<GenerationError>(),
    warnings: jsonb('warnings').$type<string[]>().notNull().default([]),
    retryOf: text('retry_of'),
    /** The API's `cost`: the estimate when it was accepted, what it cost once it ended. Null for records from before. */
    cost: jsonb('cost').$type<Cost>(),
    /**
     * What it counts against its key's budget, in micro-USD: the estimate until it ends, then the actual cost (0 for
     * one that failed before paying anything).
     */
    costMicros: bigint('cost_micros', { mode: 'number' }).notNull().default(0),
    metadata: jsonb('metadata').$type<Metadata>().notNull().default({}),
    webhookUrl: text('webhook_url'),
    apiKeyId: text('api_key_id'),
    /** The Idempotency-Key the generation was created with, if any. */
    idempotencyKey: text('idempotency_key'),
    /** Bumped on every change; SSE event ids derive from it. */
    revision: integer('revision').notNull().default(0),
    /**
     * Milliseconds, as the API shows it and as list cursors carry it (a JavaScript Date): a cursor then names its
     * row's position exactly, so no row of the same instant is skipped or repeated.
     */
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('generations_workflow_id_idx').on(t.workflowId),
    // Keyset pagination, newest first: (created_at, id) for basic auth and open mode, with the key in front for a key.
    index('generations_created_at_idx').on(t.createdAt, t.id),
    index('generations_status_idx').on(t.status),
    index('generations_api_key_idx').on(t.apiKeyId, t.createdAt, t.id),
  ],
);

export type GenerationRow = typeof generations.$inferSelect;
export type NewGenerationRow = typeof generations.$inferInsert;

/** Bearer API keys: only a SHA-256 of the key is stored; the plain key is shown once at creation. */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    /** The first characters of the key, to recognise it in listings. */
    prefix: text('prefix').notNull(),
    hash: text('hash').notNull(),
    /** Requests per rate-limit window for this key; the gateway default when null. */
    rateLimit: integer('rate_limit'),
    /** Spending limits in micro-USD per UTC day and per UTC calendar month; null means none. */
    dailyBudgetMicros: bigint('daily_budget_micros', { mode: 'number' }),
    monthlyBudgetMicros: bigint('monthly_budget_micros', { mode: 'number' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('api_keys_hash_idx').on(t.hash)],
);
export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** Idempotency-Key records: one generation per (scope, key); a different body under the same key is a conflict. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    /** The API key id, or `anonymous`. */
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    generationId: text('generation_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] })],
);
export type IdempotencyKeyRow = typeof idempotencyKeys.$inferSelect;

/** Webhook delivery attempts for terminal states (at least once; retried durably by Temporal). */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    /** The `webhook-id` header value: stable across retries of one event. */
    id: text('id').primaryKey(),
    generationId: text('generation_id').notNull(),
    event: text('event').notNull(),
    url: text('url').notNull(),
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('webhook_deliveries_generation_idx').on(t.generationId)],
);
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
