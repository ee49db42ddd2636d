import { z } from 'zod';
import { StepProgress, WorkflowStatus } from './common.js';

/** Error codes of the gateway's error envelope (docs/api.md). */
export const ERROR_CODES = [
  'validation_failed',
  'unknown_type',
  'unauthorized',
  'not_found',
  'idempotency_conflict',
  'invalid_state',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
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

export const CreateGenerationBody = z.object({
  type: z.string().min(1).max(64),
  input: z.record(z.string(), z.unknown()).default({}),
  webhook_url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
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
  retry_of: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  updated_at: z.string(),
  completed_at: z.string().nullable(),
});
export type Generation = z.infer<typeof Generation>;

export const GenerationIdParams = z.object({ id: z.string().regex(/^gen_[A-Za-z0-9]{10,40}$/, 'is not a generation id') });
