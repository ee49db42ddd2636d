import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { ErrorBody } from '@gptmarket/contracts';
import type { Logger } from '@gptmarket/runtime';
import { ApiError } from '../errors.js';

export interface ErrorOptions {
  /** BODY_LIMIT_BYTES, named in the 413 answer. */
  bodyLimit: number;
  /** Unknown routes count against the rate limit too (RATE_LIMIT_ENABLED). */
  rateLimited: boolean;
  log: Logger;
}

function errorBody(code: ErrorBody['error']['code'], message: string, requestId: string, details?: unknown): ErrorBody {
  return { error: { code, message, ...(details === undefined ? {} : { details }), request_id: requestId } };
}

/** Errors that mean the database could not be reached (PostgreSQL or a closed PGlite), as opposed to a bug. */
function databaseUnreachable(err: unknown): boolean {
  const e = err as { message?: string; code?: string; cause?: unknown };
  const text = `${e?.code ?? ''} ${e?.message ?? ''} ${(e?.cause as { message?: string } | undefined)?.message ?? ''}`;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection terminated|connection timeout|the database system is|PGlite is closed|Cannot use a pool after calling end|57P0[1-3]/i.test(
    text,
  );
}

/**
 * Every failure becomes the error envelope (docs/api.md "Errors"): ours with their code, contract violations as
 * `validation_failed` with the path of each problem, Fastify's body errors with their status, an unreachable
 * database as 503, anything else as a bare 500 whose details stay in the log.
 */
export function registerErrors(app: FastifyInstance, opts: ErrorOptions): void {
  const { log } = opts;
  app.setNotFoundHandler({ preHandler: opts.rateLimited ? app.rateLimit() : undefined }, (req, reply) => {
    reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`, req.id));
  });

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    if (err instanceof ApiError) {
      return reply.code(err.statusCode).send(errorBody(err.code, err.message, req.id, err.details));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where =
        err.validationContext === 'body' ? [] : [err.validationContext === 'querystring' ? 'query' : String(err.validationContext)];
      const details = err.validation.map((v) => ({
        path: [...where, ...v.instancePath.split('/').filter(Boolean)].join('.') || '(root)',
        message: v.message,
      }));
      return reply.code(400).send(errorBody('validation_failed', `the ${where[0] ?? 'body'} does not match the contract`, req.id, details));
    }
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send(errorBody('payload_too_large', `the body is larger than ${opts.bodyLimit} bytes`, req.id));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return reply.code(415).send(errorBody('unsupported_media_type', 'send the body as application/json', req.id));
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.code(400).send(errorBody('validation_failed', 'the JSON body is empty', req.id));
    }
    if (err.statusCode === 429) return reply.code(429).send(errorBody('rate_limited', err.message, req.id));
    if (databaseUnreachable(err)) {
      log.warn('database unreachable', { requestId: req.id, error: err.message });
      return reply.code(503).send(errorBody('unavailable', 'the database is unreachable; nothing was started', req.id));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply
        .code(err.statusCode)
        .send(errorBody(err.statusCode === 413 ? 'payload_too_large' : 'validation_failed', 'the request is not valid', req.id));
    }
    log.error('request failed', { requestId: req.id, error: err.message, stack: err.stack });
    return reply.code(500).send(errorBody('internal', 'something went wrong on our side', req.id));
  });
}
