import type { z } from 'zod';
import type {
  GENERATION_TYPES,
  Generation,
  GenerationError,
  StepProgress,
  WorkflowStatus,
} from '@gptmarket/contracts';

type Catalogue = typeof GENERATION_TYPES;

/** The generation types this SDK was built with (`ruby`, `hello_world`, ...). */
export type GenerationTypeName = keyof Catalogue;

/**
 * What a caller sends as `input` for a type: the contract's input (`z.input`, so defaulted fields are optional),
 * without `secret_key`: the gateway derives the workflow's credential itself and never takes one from a client.
 */
export type GenerationInput<T extends GenerationTypeName> = Omit<z.input<Catalogue[T]['input']>, 'secret_key'>;

/** The `input` a generation record carries: the validated input with defaults applied, never `secret_key`. */
export type ResolvedGenerationInput<T extends GenerationTypeName> = Omit<z.output<Catalogue[T]['input']>, 'secret_key'>;

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

export type { Generation, GenerationError, StepProgress, WorkflowStatus };

/** `GET /health`. */
export interface HealthResponse {
  status: 'ok';
}

export type ReadyCheck = 'ok' | 'down';

/** `GET /ready` (answered with 200 or 503; both are returned, see `ok`). */
export interface ReadyResponse {
  status: string;
  checks: { temporal: ReadyCheck; database: ReadyCheck; storage: ReadyCheck } & Record<string, ReadyCheck>;
  /** Generation and media workers seen polling their task queues in the last few minutes; null when Temporal cannot be asked. */
  workers: { generation: number; media: number } | null;
  /**
   * Per capability (`image_video`, `prompts`, `llm`, `pinterest`, `speech`, `transcription`), the providers the live
   * generation workers serve it with (`local`: the offline placeholder provider); null when Temporal cannot be asked.
   */
  providers: Record<string, string[]> | null;
  /** True when the gateway answered 200. */
  ok: boolean;
}

/** A JSON Schema document as the gateway serves it. */
export type JsonSchema = Record<string, unknown>;

/** One entry of `GET /v1/generation-types`. */
export interface GenerationTypeInfo {
  type: string;
  workflow_type: string;
  name: string;
  description: string;
  input_schema: JsonSchema;
  output_schema: JsonSchema;
}

/** One page of `GET /v1/generations`. */
export interface GenerationPage {
  data: Generation[];
  next_cursor: string | null;
}

export interface ListGenerationsParams {
  type?: string;
  status?: WorkflowStatus;
  /** 1–100; the gateway's default is 20. */
  limit?: number;
  cursor?: string;
}

/** The data of an SSE `progress` event. */
export interface ProgressEvent {
  status: WorkflowStatus;
  current_step: StepProgress | null;
}
