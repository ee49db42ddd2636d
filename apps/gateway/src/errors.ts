import type { ErrorCode } from '@gptmarket/contracts';

/** An error that becomes the API's error envelope with this status and code. */
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
