import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** One row per generation request: the job record the gateway serves (api.md "The generation object"). */
export const generations = pgTable(
  'generations',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    workflowType: text('workflow_type').notNull(),
    workflowId: text('workflow_id').notNull(),
    status: text('status').notNull(),
    currentStep: jsonb('current_step'),
    /** The validated input, without `secret_key`. */
    input: jsonb('input').notNull(),
    output: jsonb('output'),
    error: jsonb('error'),
    warnings: jsonb('warnings').$type<string[]>().notNull().default([]),
    retryOf: text('retry_of'),
    metadata: jsonb('metadata').notNull().default({}),
    webhookUrl: text('webhook_url'),
    apiKeyId: text('api_key_id'),
    /** Bumped on every change; SSE event ids derive from it. */
    revision: integer('revision').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('generations_workflow_id_idx').on(t.workflowId),
    index('generations_created_at_idx').on(t.createdAt, t.id),
    index('generations_status_idx').on(t.status),
  ],
);

export type GenerationRow = typeof generations.$inferSelect;
export type NewGenerationRow = typeof generations.$inferInsert;
