import {
  ModelInputError,
  checkModelRequest,
  REWRITE_IGNORED_WARNING,
  formatIssues,
  getGenerationType,
  type CreateGenerationBody,
  type GenerationTypeDefinition,
} from '@gptmarket/contracts';
import { ApiError } from '../errors.js';

export interface ValidRequest {
  def: GenerationTypeDefinition;
  /** The input with the contract's defaults applied: what the record keeps and the workflow receives. */
  input: Record<string, unknown>;
  /** Warnings the generation starts with (ignored options, dropped model params). */
  warnings: string[];
}

/**
 * Checks a request against its type's contract, and each model's params against the model, before anything is
 * started or paid for. Keys a model does not know are dropped with a warning (the workflow reports the same
 * warnings in its result).
 */
export function validateRequest(body: Pick<CreateGenerationBody, 'type' | 'input'>): ValidRequest {
  const def = getGenerationType(body.type);
  if (!def) throw new ApiError(400, 'unknown_type', `unknown generation type "${body.type}"`);
  const parsed = def.request.safeParse(body.input);
  if (!parsed.success) {
    throw new ApiError(400, 'validation_failed', 'the input does not match the contract', formatIssues(parsed.error, ['input']));
  }
  const input = parsed.data as Record<string, unknown>;
  const modelWarnings: string[] = [];
  for (const request of def.modelRequests?.(input as never) ?? []) {
    try {
      modelWarnings.push(...checkModelRequest(request));
    } catch (err) {
      if (!(err instanceof ModelInputError)) throw err;
      const path = ['input', request.params_field ?? request.model, ...(err.field ? [err.field] : [])].join('.');
      throw new ApiError(400, 'validation_failed', 'the input does not match the model', [{ path, message: err.message }]);
    }
  }
  return { def, input, warnings: [...(input.rewrite_enabled === true ? [REWRITE_IGNORED_WARNING] : []), ...modelWarnings] };
}
