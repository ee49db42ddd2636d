import { z } from 'zod';
import { StepProgress, WorkflowStatus } from './common.js';
import type { GenerationTypeDefinition } from './generation-types.js';
import { inputJsonSchema } from './models.js';
import { Cost } from './pricing.js';
import { CAPABILITY_NAMES } from './workers.js';

/**
 * Every HTTP shape of the gateway, in one place: the gateway validates and serialises with these schemas, its
 * OpenAPI document is generated from them, and the SDK's types are inferred from them.
 */

/** Error codes of the gateway's error envelope (docs/api.md). */
export const ERROR_CODES = [
  'validation_failed',
  'unknown_type',
  'unauthorized',
  'forbidden',
  'not_found',
  'idempotency_conflict',
  'invalid_state',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'budget_exceeded',
  'unavailable',
  'internal',
] as const;
export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string(),
    details: z.unknown().optional(),
    request_id: z.string(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** Metadata a caller attaches to a generation: a small flat JSON object. */
export const Metadata = z
  .record(z.string().max(64), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]))
  .refine((o) => Object.keys(o).length <= 32, { message: 'at most 32 keys' });
export type Metadata = z.infer<typeof Metadata>;

export const CreateGenerationBody = z.object({
  type: z.string().min(1).max(64),
  input: z.record(z.string(), z.unknown()).default({}),
  webhook_url: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .optional(),
  metadata: Metadata.optional(),
});
export type CreateGenerationBody = z.infer<typeof CreateGenerationBody>;

export const GenerationError = z.object({
  code: z.string(),
  message: z.string(),
  step_id: z.string().nullable(),
});
export type GenerationError = z.infer<typeof GenerationError>;

export const Generation = z.object({
  id: z.string(),
  type: z.string(),
  workflow_type: z.string(),
  workflow_id: z.string(),
  status: WorkflowStatus,
  current_step: StepProgress.nullable(),
  input: z.record(z.string(), z.unknown()),
  output: z.record(z.string(), z.unknown()).nullable(),
  error: GenerationError.nullable(),
  warnings: z.array(z.string()),
  /** What it is expected to cost and, once ended, what it cost (docs/api.md "Cost"); null for records from before costs were kept. */
  cost: Cost.nullable(),
  retry_of: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  updated_at: z.string(),
  completed_at: z.string().nullable(),
});
export type Generation = z.infer<typeof Generation>;

export const GenerationIdParams = z.object({ id: z.string().regex(/^gen_[A-Za-z0-9]{10,40}$/, 'is not a generation id') });

/** `GET /v1/generations`: filters and paging, newest first. */
export const ListGenerationsQuery = z.object({
  type: z.string().max(64).optional(),
  status: WorkflowStatus.optional(),
  /** 1–100, 20 when absent. A query string carries text: the number is coerced. */
  limit: z.coerce.number<number>().int().min(1).max(100).default(20),
  /** `next_cursor` of the previous page. */
  cursor: z.string().max(200).optional(),
});
export type ListGenerationsQuery = z.infer<typeof ListGenerationsQuery>;

/** One page of `GET /v1/generations`; `next_cursor` is null on the last page. */
export const GenerationPage = z.object({ data: z.array(Generation), next_cursor: z.string().nullable() });
export type GenerationPage = z.infer<typeof GenerationPage>;

/** A JSON Schema document as the gateway serves it. */
export const JsonSchema = z.record(z.string(), z.unknown());
export type JsonSchema = z.infer<typeof JsonSchema>;

/** One entry of `GET /v1/generation-types`. */
export const GenerationTypeInfo = z.object({
  type: z.string(),
  workflow_type: z.string(),
  name: z.string(),
  description: z.string(),
  /** What a caller sends as `input` (draft-7, `io: input`: defaulted fields are optional). */
  input_schema: JsonSchema,
  output_schema: JsonSchema,
});
export type GenerationTypeInfo = z.infer<typeof GenerationTypeInfo>;

/** The catalogue entry of a generation type, as `GET /v1/generation-types` serves it. */
export function generationTypeInfo(def: GenerationTypeDefinition): GenerationTypeInfo {
  return {
    type: def.type,
    workflow_type: def.workflowType,
    name: def.name,
    description: def.description,
    input_schema: inputJsonSchema(def.request, 'draft-7') as JsonSchema,
    output_schema: z.toJSONSchema(def.output, { target: 'draft-7', unrepresentable: 'any' }) as JsonSchema,
  };
}

/**
 * `GET /v1/generations/:id/events` (server-sent events): `progress` with this data on every change (its id is the
 * record's revision), then one event named after the terminal status (`completed`, `failed`, `cancelled`) whose
 * data is the whole `Generation`; the stream ends after it.
 */
export const ProgressEvent = z.object({ status: WorkflowStatus, current_step: StepProgress.nullable() });
export type ProgressEvent = z.infer<typeof ProgressEvent>;

/** `GET /health`: the process serves. */
export const HealthBody = z.object({ status: z.literal('ok') });
export type HealthBody = z.infer<typeof HealthBody>;

export const ReadyCheck = z.enum(['ok', 'down']);
export type ReadyCheck = z.infer<typeof ReadyCheck>;

/** `GET /ready`, answered with 200 when every check is `ok`, else 503. */
export const ReadyBody = z.object({
  status: z.enum(['ok', 'unavailable']),
  checks: z.object({ temporal: ReadyCheck, database: ReadyCheck, storage: ReadyCheck }),
  /** Generation and media workers seen polling their task queues; null when Temporal cannot be asked. Not part of readiness. */
  workers: z.object({ generation: z.number().int(), media: z.number().int() }).nullable(),
  /**
   * Per capability, the providers the live generation workers serve it with (`local`: the offline placeholder
   * provider); null when Temporal cannot be asked.
   */
  providers: z.record(z.enum(CAPABILITY_NAMES), z.array(z.string())).nullable(),
});
export type ReadyBody = z.infer<typeof ReadyBody>;

// --- API keys (the operators' admin API, `/v1/keys`) ------------------------------------------------------------

/** A key's name: what `keys list` shows to tell keys apart. */
export const ApiKeyName = z.string().regex(/^[\p{L}\p{N} _.-]{1,64}$/u, 'must be 1–64 letters, digits, spaces, _ . or -');
/** Requests per rate-limit window for one key (the gateway's RATE_LIMIT_MAX when absent). */
const rateLimitMessage = 'must be a whole number of requests per window, from 1 to 1000000';
export const ApiKeyRateLimit = z.number(rateLimitMessage).int(rateLimitMessage).min(1, rateLimitMessage).max(1_000_000, rateLimitMessage);
/** The most a budget may be (USD). */
export const MAX_BUDGET_USD = 1_000_000_000;
const budgetMessage = `must be an amount of USD from 0 to ${MAX_BUDGET_USD} (e.g. 25 or 2.50)`;
/** A spending limit in USD per UTC day or per UTC calendar month; null is none. */
export const BudgetUsd = z.number(budgetMessage).min(0, budgetMessage).max(MAX_BUDGET_USD, budgetMessage);

/** `POST /v1/keys`. */
export const CreateApiKeyBody = z.strictObject({
  name: ApiKeyName,
  rate_limit: ApiKeyRateLimit.nullable().optional(),
  daily_budget_usd: BudgetUsd.nullable().optional(),
  monthly_budget_usd: BudgetUsd.nullable().optional(),
});
export type CreateApiKeyBody = z.infer<typeof CreateApiKeyBody>;

/** `PATCH /v1/keys/:id`: a budget left out stays as it is; null removes it. */
export const UpdateApiKeyBody = z
  .strictObject({ daily_budget_usd: BudgetUsd.nullable().optional(), monthly_budget_usd: BudgetUsd.nullable().optional() })
  .refine((b) => b.daily_budget_usd !== undefined || b.monthly_budget_usd !== undefined, {
    message: 'name a budget to set: daily_budget_usd or monthly_budget_usd (USD, or null for none)',
  });
export type UpdateApiKeyBody = z.infer<typeof UpdateApiKeyBody>;

export const ApiKeyIdParams = z.object({ id: z.string().regex(/^key_[A-Za-z0-9]{1,40}$/, 'is not an API key id') });

/** One budget of a key, with what was spent in its current window. */
export const ApiKeyBudget = z.object({
  window: z.enum(['day', 'month']),
  limit_usd: z.number(),
  spent_usd: z.number(),
  /** When the window ends: the next UTC midnight or the first of the next UTC month. */
  resets_at: z.string(),
});
export type ApiKeyBudget = z.infer<typeof ApiKeyBudget>;

/** A key as operators see it: never the key itself (only its first characters) nor its hash. */
export const ApiKey = z.object({
  id: z.string(),
  name: z.string(),
  /** The first characters of the key (`gmk_AbCdEf`), to recognise it. */
  prefix: z.string(),
  rate_limit: z.number().int().nullable(),
  daily_budget_usd: z.number().nullable(),
  monthly_budget_usd: z.number().nullable(),
  budgets: z.array(ApiKeyBudget),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
export type ApiKey = z.infer<typeof ApiKey>;

/** `POST /v1/keys`: the key, and the plain key once (only its hash is stored). */
export const CreatedApiKey = ApiKey.extend({ key: z.string() });
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

/** `GET /v1/keys`, newest first. */
export const ApiKeyList = z.object({ data: z.array(ApiKey) });
export type ApiKeyList = z.infer<typeof ApiKeyList>;
