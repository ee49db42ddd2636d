import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { z } from 'zod';
import {
  CreateGenerationBody,
  GENERATION_TYPES,
  GenerationIdParams,
  formatIssues,
  type ErrorBody,
} from '@gptmarket/contracts';
import type { DatabaseHandle } from '@gptmarket/db';
import { LocalStorage, type Logger, type Storage } from '@gptmarket/providers';
import { ApiError } from './errors.js';
import { GenerationService } from './services/generations.js';
import type { TemporalGateway } from './services/temporal.js';

export interface AppDeps {
  database: DatabaseHandle;
  temporal: TemporalGateway;
  storage: Storage;
  log: Logger;
  taskQueue: string;
  workflowSecret: string | undefined;
  bodyLimit: number;
  /** Which providers have keys configured (never the keys). */
  providers: Record<string, boolean>;
}

const newRequestId = () => `req_${randomBytes(9).toString('base64url')}`;

function errorBody(code: ErrorBody['error']['code'], message: string, requestId: string, details?: unknown): ErrorBody {
  return { error: { code, message, ...(details === undefined ? {} : { details }), request_id: requestId } };
}

/** Builds the gateway: plugins, then services, then routes. `server.ts` listens; tests use `inject()`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimit,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(given) ? given : newRequestId();
    },
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    return503OnClosing: true,
  });
  const generations = new GenerationService({
    db: deps.database.db,
    temporal: deps.temporal,
    taskQueue: deps.taskQueue,
    workflowSecret: deps.workflowSecret,
    log: deps.log,
  });

  // JSON only: drop Fastify's text/plain parser so anything but JSON is a 415.
  app.removeContentTypeParser('text/plain');

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
    reply.header('x-content-type-options', 'nosniff');
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]}`, req.id));
  });

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    if (err instanceof ApiError) {
      return reply.code(err.statusCode).send(errorBody(err.code, err.message, req.id, err.details));
    }
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send(errorBody('payload_too_large', `the body is larger than ${deps.bodyLimit} bytes`, req.id));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return reply.code(415).send(errorBody('unsupported_media_type', 'send the body as application/json', req.id));
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.code(400).send(errorBody('validation_failed', 'the JSON body is empty', req.id));
    }
    if (err.statusCode === 400 || err instanceof SyntaxError) {
      return reply.code(400).send(errorBody('validation_failed', 'the body is not valid JSON', req.id));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send(errorBody('validation_failed', err.message, req.id));
    }
    deps.log.error('request failed', { requestId: req.id, error: err.message, stack: err.stack });
    return reply.code(500).send(errorBody('internal', 'something went wrong on our side', req.id));
  });

  const parse = <S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> => {
    const r = schema.safeParse(value);
    if (!r.success) throw new ApiError(400, 'validation_failed', `the ${where} does not match the contract`, formatIssues(r.error, where === 'body' ? [] : [where]));
    return r.data;
  };

  // --- health ------------------------------------------------------------------------------------
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_req, reply) => {
    const probe = async (fn: () => Promise<void>) =>
      Promise.race([fn().then(() => 'ok' as const), new Promise<'down'>((r) => setTimeout(() => r('down'), 3_000).unref())]).catch(() => 'down' as const);
    const [temporal, database, storage] = await Promise.all([
      probe(() => deps.temporal.check()),
      probe(() => deps.database.ping()),
      probe(() => deps.storage.check()),
    ]);
    const checks = { temporal, database, storage };
    const ok = Object.values(checks).every((c) => c === 'ok');
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks, providers: deps.providers });
  });

  // --- catalogue ---------------------------------------------------------------------------------
  app.get('/v1/generation-types', async () =>
    Object.values(GENERATION_TYPES).map((t) => ({
      type: t.type,
      workflow_type: t.workflowType,
      name: t.name,
      description: t.description,
      input_schema: z.toJSONSchema(t.input, { target: 'draft-7', io: 'input', unrepresentable: 'any' }),
      output_schema: z.toJSONSchema(t.output, { target: 'draft-7', unrepresentable: 'any' }),
    })),
  );

  // --- generations ---------------------------------------------------------------------------------
  app.post('/v1/generations', async (req, reply) => {
    const body = parse(CreateGenerationBody, req.body ?? {}, 'body');
    const row = await generations.create(body);
    return reply.code(202).send(generations.toApi(row));
  });

  app.get('/v1/generations', async (req) => {
    const { limit } = parse(z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }), req.query, 'query');
    const rows = await generations.list(limit);
    return { data: rows.map((r) => generations.toApi(r)), next_cursor: null };
  });

  app.get('/v1/generations/:id', async (req) => {
    const { id } = parse(GenerationIdParams, req.params, 'params');
    const row = await generations.find(id);
    if (!row) throw new ApiError(404, 'not_found', `no generation ${id}`);
    return generations.toApi(await generations.refresh(row));
  });

  // --- local media ---------------------------------------------------------------------------------
  if (deps.storage instanceof LocalStorage) {
    await deps.storage.check();
    await app.register(fastifyStatic, {
      root: deps.storage.filePath('x/x.bin').replace(/\/x\/x\.bin$/, ''),
      prefix: '/media/',
      dotfiles: 'deny',
      index: false,
      list: false,
      cacheControl: true,
      maxAge: '1h',
      immutable: true,
    });
  }

  return app;
}
