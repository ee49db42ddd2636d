import type { z } from 'zod';
import type {
  ApiKey,
  ApiKeyBudget,
  ApiKeyList,
  CreateApiKeyBody,
  CreatedApiKey,
  GENERATION_TYPES,
  Generation,
  GenerationError,
  GenerationPage,
  GenerationTypeInfo,
  HealthBody,
  JsonSchema,
  ListGenerationsQuery,
  ProgressEvent,
  ReadyBody,
  ReadyCheck,
  StepProgress,
  UpdateApiKeyBody,
  WorkflowStatus,
} from '@gptmarket/contracts';

type Catalogue = typeof GENERATION_TYPES;

/** The generation types this SDK was built with (`ruby`, `hello_world`, ...). */
export type GenerationTypeName = keyof Catalogue;

/**
 * What a caller sends as `input` for a type: the type's request contract (`z.input`, so defaulted fields are
 * optional). It has no `secret_key`: the gateway derives the workflow's credential itself.
 */
export type GenerationInput<T extends GenerationTypeName> = z.input<Catalogue[T]['request']>;

/** The `input` a generation record carries: the validated request with defaults applied. */
export type ResolvedGenerationInput<T extends GenerationTypeName> = z.output<Catalogue[T]['request']>;

/** The output of a completed generation of that type (`z.infer` of the type's output schema). */
export type GenerationOutput<T extends GenerationTypeName> = z.output<Catalogue[T]['output']>;

/** A generation record whose `input` and `output` are typed by its generation type. */
export interface TypedGeneration<T extends GenerationTypeName> extends Omit<Generation, 'type' | 'input' | 'output'> {
  type: T;
  input: ResolvedGenerationInput<T>;
  output: GenerationOutput<T> | null;
}

/** Input type for `createGeneration(type, ...)`: typed for a known type name, a plain object for any other string. */
export type InputFor<T extends string> = T extends GenerationTypeName ? GenerationInput<T> : Record<string, unknown>;
/** Result type of `createGeneration(type, ...)`. */
export type GenerationFor<T extends string> = T extends GenerationTypeName ? TypedGeneration<T> : Generation;

// The HTTP shapes are the gateway's own schemas (packages/contracts/src/http.ts).
export type {
  ApiKey,
  ApiKeyBudget,
  ApiKeyList,
  CreatedApiKey,
  Generation,
  GenerationError,
  GenerationPage,
  GenerationTypeInfo,
  JsonSchema,
  ProgressEvent,
  ReadyCheck,
  StepProgress,
  WorkflowStatus,
};

/** `GET /health`. */
export type HealthResponse = HealthBody;

/** `GET /ready` (answered with 200 or 503; both are returned, see `ok`). */
export type ReadyResponse = ReadyBody & {
  /** True when the gateway answered 200. */
  ok: boolean;
};

/** Filters and paging of `GET /v1/generations` (`limit` 1–100; the gateway's default is 20). */
export type ListGenerationsParams = z.input<typeof ListGenerationsQuery>;

/** `POST /v1/keys`: `name`, and optionally `rate_limit`, `daily_budget_usd`, `monthly_budget_usd`. */
export type CreateApiKeyParams = z.input<typeof CreateApiKeyBody>;
/** `PATCH /v1/keys/:id`: `daily_budget_usd` and/or `monthly_budget_usd` (USD, or null for none). */
export type UpdateApiKeyParams = z.input<typeof UpdateApiKeyBody>;
