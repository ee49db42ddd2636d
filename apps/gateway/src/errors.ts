import { ErrorBody, type ErrorCode } from '@gptmarket/contracts';

/** An error that becomes the API's error envelope with this status and code (plugins/errors.ts writes it). */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The error answers every API route documents in OpenAPI. */
export const errorResponses = {
  400: ErrorBody.describe('Validation failed or unknown type'),
  401: ErrorBody.describe('Missing or bad credentials'),
  429: ErrorBody.describe('Rate limited'),
  503: ErrorBody.describe('Temporal or the database is unreachable; nothing was started'),
};
