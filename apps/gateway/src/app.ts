import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import fastifyCors from '@fastify/cors';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CreateGenerationBody,
  ErrorBody,
  GENERATION_TYPES,
  Generation,
  GenerationIdParams,
  WorkflowStatus,
  inputJsonSchema,
  isTerminalStatus,
  type GenerationTypeDefinition,
  type JsonSchemaTarget,
} from '@gptmarket/contracts';
import type { DatabaseHandle, GenerationRow } from '@gptmarket/db';
import { isProduction, isPublicAddress, type Logger } from '@gptmarket/runtime';
import { LocalStorage, type Storage } from '@gptmarket/storage';
import { ApiError } from './errors.js';
import type { GatewayEnv } from './env.js';
import { hostList } from './env.js';
import { registerAuth } from './plugins/auth.js';
import { registerJsonBody } from './plugins/json-body.js';
import { ApiKeyService } from './services/api-keys.js';
import { GenerationService, type Caller } from './services/generations.js';
import type { TemporalGateway } from './services/temporal.js';
import { GenerationTracker } from './services/tracker.js';
import { assertDeliverableUrl, dispatchPendingWebhooks, type WebhookDeps } from './services/webhooks.js';
import { WorkerDirectory } from './services/workers.js';

export interface AppDeps {
  env: GatewayEnv;
  database: DatabaseHandle;
  temporal: TemporalGateway;
  storage: Storage;
  log: Logger;
  /** Start the background tracker (tests may drive it by hand). */
  track?: boolean;
}

export interface App {
  app: FastifyInstance;
  generations: GenerationService;
  tracker: GenerationTracker;
  keys: ApiKeyService;
  webhookDeps: WebhookDeps | null;
}

const newRequestId = () => `req_${randomBytes(9).toString('base64url')}`;

function errorBody(code: ErrorBody['error']['code'], message: string, requestId: string, details?: unknown): ErrorBody {
  return { error: { code, message, ...(details === undefined ? {} : { details }), request_id: requestId } };
}

const errorResponses = {
  400: ErrorBody.describe('Validation failed or unknown type'),
  401: ErrorBody.describe('Missing or bad credentials'),
  429: ErrorBody.describe('Rate limited'),
  503: ErrorBody.describe('Temporal or the database is unreachable; nothing was started'),
};

/** Errors that mean the database could not be reached (PostgreSQL or a closed PGlite), as opposed to a bug. */
function databaseUnreachable(err: unknown): boolean {
  const e = err as { message?: string; code?: string; cause?: unknown };
  const text = `${e?.code ?? ''} ${e?.message ?? ''} ${(e?.cause as { message?: string } | undefined)?.message ?? ''}`;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection terminated|connection timeout|the database system is|PGlite is closed|Cannot use a pool after calling end|57P0[1-3]/i.test(text);
}

/**
 * Which addresses the client address is taken from (Fastify walks from the socket's peer back through
 * X-Forwarded-For while this says yes): TRUST_PROXY_HOPS proxies, the nearest of which must be on a private
 * network (Traefik on Docker's network). A client that reaches the gateway directly from a public address
 * cannot pick its own address with a forged X-Forwarded-For, even when the port is published by mistake.
 */
const trustedProxyHops = (hops: number) =>
  hops > 0 ? (address: string, hop: number) => hop < hops && (hop > 0 || !isPublicAddress(address)) : false;

/** A type's input as a caller sends it: without secret_key, the workflow's business (the gateway fills it in). */
function callerInputSchema(t: GenerationTypeDefinition, target: JsonSchemaTarget): Record<string, unknown> {
  const schema = inputJsonSchema(t.input, target);
  delete (schema.properties as Record<string, unknown> | undefined)?.secret_key;
  return schema;
}

const PUBLIC_PATHS = /^\/(?:health|ready|openapi\.json|docs(?:\/.*)?|media\/.*)$/;

/** Builds the gateway: plugins → services → routes. `main.ts` listens; tests use `inject()` or listen on a port. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { env, log } = deps;
  const production = isProduction(env);
  const app = Fastify({
    logger: false,
    bodyLimit: env.BODY_LIMIT_BYTES,
    trustProxy: trustedProxyHops(env.TRUST_PROXY_HOPS),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(given) ? given : newRequestId();
    },
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 65_000,
    maxParamLength: 200,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // --- services --------------------------------------------------------------------------------------
  const keys = new ApiKeyService(deps.database.db);
  const generations = new GenerationService({
    db: deps.database.db,
    temporal: deps.temporal,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    workflowSecret: env.WORKFLOW_SECRET_KEY,
    storage: deps.storage,
    log,
  });
  const webhookPolicy = { allowHosts: hostList(env.WEBHOOK_ALLOWED_HOSTS) };
  const webhookDeps: WebhookDeps | null = env.WEBHOOK_SIGNING_SECRET
    ? { db: deps.database.db, temporal: deps.temporal, generations, taskQueue: env.TEMPORAL_TASK_QUEUE, secret: env.WEBHOOK_SIGNING_SECRET, policy: webhookPolicy, maxAttempts: env.WEBHOOK_MAX_ATTEMPTS, log }
    : null;
  const tracker = new GenerationTracker(generations, {
    intervalMs: env.TRACKER_INTERVAL_MS,
    slowEvery: 4,
    concurrency: 4,
    log,
    onTick: async () => {
      if (webhookDeps) await dispatchPendingWebhooks(webhookDeps).catch((err) => log.warn('webhook dispatch failed', { error: (err as Error).message }));
    },
  });
  if (deps.track ?? true) {
    tracker.start();
    app.addHook('onClose', async () => tracker.stop());
  }

  // --- plugins ---------------------------------------------------------------------------------------
  registerJsonBody(app);
  const origins = hostList(env.CORS_ORIGINS);
  if (origins.length > 0) {
    await app.register(fastifyCors, {
      origin: origins,
      methods: ['GET', 'POST', 'OPTIONS'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'last-event-id', 'x-request-id'],
      exposedHeaders: ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-request-id'],
      maxAge: 600,
    });
  }
  const isPublic = (req: FastifyRequest) => req.method === 'OPTIONS' || PUBLIC_PATHS.test(req.url.split('?')[0]!);
  registerAuth(app, {
    keys,
    basic: env.BASIC_AUTH_USER && env.BASIC_AUTH_PASSWORD ? { user: env.BASIC_AUTH_USER, password: env.BASIC_AUTH_PASSWORD } : null,
    production,
    failuresMax: env.RATE_LIMIT_ENABLED ? env.RATE_LIMIT_AUTH_FAILURES_MAX : null,
    windowMs: env.RATE_LIMIT_WINDOW_MS,
    isPublic,
  });
  if (env.RATE_LIMIT_ENABLED) {
    await app.register(fastifyRateLimit, {
      global: true,
      timeWindow: env.RATE_LIMIT_WINDOW_MS,
      // A key has its own budget (its limit or the default); basic-auth callers get the authenticated budget per
      // IP; everyone else the anonymous one.
      max: (req) => req.auth?.rateLimit ?? (req.auth?.kind === 'key' || req.auth?.kind === 'basic' ? env.RATE_LIMIT_MAX : env.RATE_LIMIT_ANON_MAX),
      keyGenerator: (req) => (req.auth?.apiKeyId ? `key:${req.auth.apiKeyId}` : `${req.auth?.kind === 'basic' ? 'basic' : 'ip'}:${req.ip}`),
      allowList: (req) => /^\/(health|ready)$/.test(req.url.split('?')[0]!),
      errorResponseBuilder: (_req, ctx) => new ApiError(429, 'rate_limited', `rate limit of ${ctx.max} requests per ${Math.round(ctx.ttl / 1000) || 1} s exceeded; retry after ${ctx.after}`),
    });
  }
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'GPTMarket Generator API', version: '1.0.0', description: 'Start AI media generations and follow them to the finished files.' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, basic: { type: 'http', scheme: 'basic' } },
        // What `input` of POST /v1/generations holds for each type (e.g. RubyInput), model params per model included.
        schemas: Object.fromEntries(Object.values(GENERATION_TYPES).map((t) => [`${t.workflowType.replace(/Workflow$/, '')}Input`, callerInputSchema(t, 'openapi-3.0')])),
      },
      security: [{ bearer: [] }, { basic: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
    reply.header('x-content-type-options', 'nosniff');
  });

  app.setNotFoundHandler({ preHandler: env.RATE_LIMIT_ENABLED ? app.rateLimit() : undefined }, (req, reply) => {
    reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`, req.id));
  });

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    if (err instanceof ApiError) {
      return reply.code(err.statusCode).send(errorBody(err.code, err.message, req.id, err.details));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = err.validationContext === 'body' ? [] : [err.validationContext === 'querystring' ? 'query' : String(err.validationContext)];
      const details = err.validation.map((v) => ({ path: [...where, ...v.instancePath.split('/').filter(Boolean)].join('.') || '(root)', message: v.message }));
      return reply.code(400).send(errorBody('validation_failed', `the ${where[0] ?? 'body'} does not match the contract`, req.id, details));
    }
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send(errorBody('payload_too_large', `the body is larger than ${env.BODY_LIMIT_BYTES} bytes`, req.id));
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
      return reply.code(err.statusCode).send(errorBody(err.statusCode === 413 ? 'payload_too_large' : 'validation_failed', 'the request is not valid', req.id));
    }
    log.error('request failed', { requestId: req.id, error: err.message, stack: err.stack });
    return reply.code(500).send(errorBody('internal', 'something went wrong on our side', req.id));
  });

  const caller = (req: FastifyRequest): Caller => ({ apiKeyId: req.auth?.apiKeyId ?? null });
  const visible = async (req: FastifyRequest, id: string): Promise<GenerationRow> => {
    const row = await generations.find(id, caller(req));
    if (!row) throw new ApiError(404, 'not_found', `no generation ${id}`);
    return row;
  };

  // --- health ------------------------------------------------------------------------------------------
  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  const workerDirectory = new WorkerDirectory(deps.temporal, { generation: env.TEMPORAL_TASK_QUEUE, media: env.MEDIA_TASK_QUEUE });
  app.get('/ready', { schema: { hide: true } }, async (_req, reply) => {
    const within3s = <T>(p: Promise<T>, late: T) => Promise.race([p, new Promise<T>((r) => setTimeout(() => r(late), 3_000).unref())]);
    const probe = (fn: () => Promise<void>) => within3s(fn().then(() => 'ok' as const), 'down' as const).catch(() => 'down' as const);
    const [temporal, database, storage, workers] = await Promise.all([
      probe(() => deps.temporal.check()),
      probe(() => deps.database.ping()),
      probe(() => deps.storage.check()),
      // What the workers report through Temporal (null when it cannot be read); not part of readiness.
      within3s(workerDirectory.report(), null).catch(() => null),
    ]);
    const checks = { temporal, database, storage };
    const ok = Object.values(checks).every((c) => c === 'ok');
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks, workers: workers?.workers ?? null, providers: workers?.providers ?? null });
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // --- catalogue -------------------------------------------------------------------------------------
  const catalogue = Object.values(GENERATION_TYPES).map((t) => ({
    type: t.type,
    workflow_type: t.workflowType,
    name: t.name,
    description: t.description,
    input_schema: callerInputSchema(t, 'draft-7'),
    output_schema: z.toJSONSchema(t.output, { target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>,
  }));
  app.get(
    '/v1/generation-types',
    { schema: { summary: 'List generation types with their input and output JSON Schemas', response: { 200: z.array(z.object({ type: z.string(), workflow_type: z.string(), name: z.string(), description: z.string(), input_schema: z.record(z.string(), z.unknown()), output_schema: z.record(z.string(), z.unknown()) })) } } },
    async () => catalogue,
  );

  // --- generations -------------------------------------------------------------------------------------
  const IdempotencyHeaders = z.object({ 'idempotency-key': z.string().regex(/^[\x21-\x7e]{1,255}$/, 'must be 1–255 visible ASCII characters').optional() });
  app.post(
    '/v1/generations',
    { schema: { summary: 'Start a generation', body: CreateGenerationBody, headers: IdempotencyHeaders, response: { 202: Generation, ...errorResponses, 409: ErrorBody } } },
    async (req, reply) => {
      const body = req.body;
      if (body.webhook_url) {
        if (!webhookDeps) throw new ApiError(400, 'validation_failed', 'webhooks are not enabled on this gateway (WEBHOOK_SIGNING_SECRET is unset)', [{ path: 'webhook_url', message: 'webhooks are disabled' }]);
        await assertDeliverableUrl(body.webhook_url, webhookPolicy);
      }
      const key = req.headers['idempotency-key'];
      const { row } = await generations.create(body, caller(req), key ? { idempotencyKey: key } : {});
      return reply.code(202).send(await generations.toApi(row));
    },
  );

  app.get(
    '/v1/generations',
    {
      schema: {
        summary: 'List generations, newest first',
        querystring: z.object({
          type: z.string().max(64).optional(),
          status: WorkflowStatus.optional(),
          limit: z.coerce.number().int().min(1).max(100).default(20),
          cursor: z.string().max(200).optional(),
        }),
        response: { 200: z.object({ data: z.array(Generation), next_cursor: z.string().nullable() }), ...errorResponses },
      },
    },
    async (req) => {
      const { rows, nextCursor } = await generations.list(req.query, caller(req));
      return { data: await Promise.all(rows.map((r) => generations.toApi(r))), next_cursor: nextCursor };
    },
  );

  app.get(
    '/v1/generations/:id',
    { schema: { summary: 'Get one generation', params: GenerationIdParams, response: { 200: Generation, ...errorResponses, 404: ErrorBody } } },
    async (req) => generations.toApi(await generations.refresh(await visible(req, req.params.id))),
  );

  app.post(
    '/v1/generations/:id/cancel',
    { schema: { summary: 'Cancel a generation (it becomes cancelled once its provider jobs and FFmpeg have stopped)', params: GenerationIdParams, response: { 202: Generation, ...errorResponses, 404: ErrorBody, 409: ErrorBody } } },
    async (req, reply) => reply.code(202).send(await generations.toApi(await generations.cancel(await visible(req, req.params.id)))),
  );

  app.post(
    '/v1/generations/:id/retry',
    { schema: { summary: 'Start a new generation with the same request (failed or cancelled only)', params: GenerationIdParams, response: { 201: Generation, ...errorResponses, 404: ErrorBody, 409: ErrorBody } } },
    async (req, reply) => reply.code(201).send(await generations.toApi(await generations.retry(await visible(req, req.params.id), caller(req)))),
  );

  app.get(
    '/v1/generations/:id/events',
    { schema: { summary: 'Progress as server-sent events: `progress` on every change, then `completed`, `failed` or `cancelled`', params: GenerationIdParams, produces: ['text/event-stream'] } },
    async (req, reply) => {
      let row = await visible(req, req.params.id);
      const lastHeader = req.headers['last-event-id'];
      let sent = typeof lastHeader === 'string' && /^\d{1,9}$/.test(lastHeader) ? Number(lastHeader) : -1;
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'x-request-id': req.id,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write('retry: 2000\n\n');
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        clearInterval(heartbeat);
        raw.end();
      };
      let finishing = false;
      const send = (next: GenerationRow) => {
        if (closed || finishing) return;
        const terminal = isTerminalStatus(WorkflowStatus.parse(next.status));
        if (!terminal && next.revision <= sent) return;
        sent = Math.max(sent, next.revision);
        if (!terminal) {
          raw.write(`id: ${next.revision}\nevent: progress\ndata: ${JSON.stringify({ status: next.status, current_step: next.currentStep ?? null })}\n\n`);
          return;
        }
        // The final event carries the whole record (media URLs made now); nothing is sent after it.
        finishing = true;
        generations.toApi(next).then(
          (data) => {
            if (!closed) raw.write(`id: ${next.revision}\nevent: ${next.status}\ndata: ${JSON.stringify(data)}\n\n`);
            close();
          },
          (err: Error) => {
            log.warn('final event failed', { requestId: req.id, error: err.message });
            close();
          },
        );
      };
      const unsubscribe = tracker.subscribe(row.id, send);
      const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), env.SSE_HEARTBEAT_MS);
      raw.on('close', close);
      try {
        row = await generations.refresh(row);
      } catch {
        /* the tracker will catch up */
      }
      send(row);
    },
  );

  // --- local media -------------------------------------------------------------------------------------
  if (deps.storage instanceof LocalStorage) {
    await deps.storage.check();
    await app.register(fastifyStatic, {
      root: deps.storage.root,
      prefix: '/media/',
      dotfiles: 'deny',
      index: false,
      list: false,
      cacheControl: true,
      maxAge: '1h',
      immutable: true,
      allowedPath: (path) => /^\/?[a-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*\/[A-Za-z0-9_-]+\.[a-z0-9]{1,5}$/.test(path),
      schemaHide: true,
    });
  }

  return { app, generations, tracker, keys, webhookDeps };
}
