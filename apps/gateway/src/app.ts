import { randomBytes } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { isTerminalStatus } from '@gptmarket/contracts';
import type { DatabaseHandle } from '@gptmarket/db';
import type { Redis } from 'ioredis';
import { isProduction, isPublicAddress, metrics, pinoOf, type Logger } from '@gptmarket/runtime';
import type { Storage } from '@gptmarket/storage';
import type { GatewayEnv } from './env.js';
import { hostList } from './env.js';
import { registerAuth } from './plugins/auth.js';
import { registerCors } from './plugins/cors.js';
import { registerErrors } from './plugins/errors.js';
import { registerJsonBody } from './plugins/json-body.js';
import { registerObservability } from './plugins/observability.js';
import { registerOpenApi } from './plugins/openapi.js';
import { registerRateLimit } from './plugins/rate-limit.js';
import { catalogueRoutes } from './routes/catalogue.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { eventRoutes } from './routes/events.js';
import { generationRoutes } from './routes/generations.js';
import { healthRoutes } from './routes/health.js';
import { keyRoutes } from './routes/keys.js';
import { mediaRoutes } from './routes/media.js';
import { ApiKeyService } from './services/api-keys.js';
import { Cluster } from './services/cluster.js';
import { GenerationCommands } from './services/generation-commands.js';
import { GenerationFeed } from './services/generation-feed.js';
import { GenerationObserver } from './services/generation-observer.js';
import { GenerationRecords } from './services/generation-records.js';
import type { TemporalGateway } from './services/temporal.js';
import { GenerationTracker } from './services/tracker.js';
import { WebhookDispatcher, type WebhookDeps } from './services/webhooks.js';
import { WorkerDirectory } from './services/workers.js';

export interface AppDeps {
  env: GatewayEnv;
  database: DatabaseHandle;
  temporal: TemporalGateway;
  storage: Storage;
  log: Logger;
  /** Start the background tracker (tests may drive it by hand). */
  track?: boolean;
  /** Shares rate limits and failed-login counters with the other replicas (REDIS_URL); null: this process counts alone. */
  redis?: Redis | null;
}

export interface App {
  app: FastifyInstance;
  keys: ApiKeyService;
  tracker: GenerationTracker;
  /** Replicas sharing PostgreSQL: change notifications and the leader lock; null on PGlite or without tracking. */
  cluster: Cluster | null;
  /** What the webhook activities need (main.ts serves them); null when webhooks are disabled. */
  webhookDeps: WebhookDeps | null;
}

/** `req_` + this process's random prefix + a counter: unique across replicas and restarts, no entropy per request. */
const requestIdPrefix = `req_${randomBytes(6).toString('base64url')}`;
let requestCount = 0;
const newRequestId = () => `${requestIdPrefix}${(++requestCount).toString(36)}`;

/**
 * Which addresses the client address is taken from (Fastify walks from the socket's peer back through
 * X-Forwarded-For while this says yes): TRUST_PROXY_HOPS proxies, the nearest of which must be on a private
 * network (Traefik on Docker's network). A client that reaches the gateway directly from a public address
 * cannot pick its own address with a forged X-Forwarded-For, even when the port is published by mistake.
 */
const trustedProxyHops = (hops: number) =>
  hops > 0 ? (address: string, hop: number) => hop < hops && (hop > 0 || !isPublicAddress(address)) : false;

const PUBLIC_PATHS = /^\/(?:health|ready|openapi\.json|docs(?:\/.*)?|media\/.*|dashboard(?:\/.*)?)$/;

/** Builds the gateway: plugins → services → routes. `main.ts` listens; tests use `inject()` or listen on a port. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { env, database, temporal, storage, log } = deps;
  const app = Fastify({
    // Fastify's request logger is the gateway's pino (one line per request: plugins/observability.ts).
    loggerInstance: pinoOf(log, 'gateway') as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: env.BODY_LIMIT_BYTES,
    trustProxy: trustedProxyHops(env.TRUST_PROXY_HOPS),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(given) ? given : newRequestId();
    },
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // --- services --------------------------------------------------------------------------------------
  const { db } = database;
  const keys = new ApiKeyService(db);
  const feed = new GenerationFeed(log);
  const records = new GenerationRecords(db, storage);
  const publish: typeof feed.publish = (row) => (records.changed(), feed.publish(row));
  // Counted where they are recorded: a creation once, a terminal state by the one observer that writes it.
  const onFinished: typeof publish = (row) => {
    if (isTerminalStatus(row.status)) metrics.generationsFinished.inc({ type: row.type, status: row.status });
    publish(row);
  };
  const onStarted: typeof publish = (row) => {
    metrics.generationsStarted.inc({ type: row.type });
    publish(row);
  };
  const observer = new GenerationObserver({
    db,
    temporal,
    records,
    storage,
    onChange: onFinished,
    onPassing: (row) => feed.deliver(row),
    // Once per generation (by the replica that wrote its end): what it cost, by key, provider and model.
    onCostSettled: ({ generationId, apiKeyId, status, cost }) => {
      for (const item of cost.items)
        metrics.generationCost.inc({ api_key: apiKeyId ?? 'open', provider: item.provider, model: item.model }, item.amount);
      log.info('generation cost settled', { id: generationId, apiKeyId, status, estimated: cost.estimated, actual: cost.actual });
    },
    log,
  });
  const commands = new GenerationCommands({
    db,
    temporal,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    workflowSecret: env.WORKFLOW_SECRET_KEY,
    records,
    observer,
    onChange: onStarted,
    log,
  });
  const webhookPolicy = { allowHosts: hostList(env.WEBHOOK_ALLOWED_HOSTS) };
  const webhookDeps: WebhookDeps | null = env.WEBHOOK_SIGNING_SECRET
    ? {
        db,
        temporal,
        records,
        taskQueue: env.TEMPORAL_TASK_QUEUE,
        secret: env.WEBHOOK_SIGNING_SECRET,
        policy: webhookPolicy,
        maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
        log,
      }
    : null;
  const webhooks = webhookDeps ? new WebhookDispatcher(webhookDeps) : null;
  const tracker = new GenerationTracker({
    records,
    observer,
    feed,
    temporal,
    namespace: env.TEMPORAL_NAMESPACE,
    sweepMs: env.TRACKER_INTERVAL_MS,
    maxWatches: env.TRACKER_MAX_WATCHES,
    concurrency: 4,
    log,
    onTerminal: (row) => {
      if (row.webhookUrl) webhooks?.kick();
    },
    onSweep: async () => webhooks?.run(),
  });
  // With PostgreSQL, replicas hear each other's changes and elect the one that runs the tracker and the webhook
  // dispatch; PGlite serves one process, which does both.
  const cluster =
    (deps.track ?? true) && env.DATABASE_URL && database.kind === 'postgres'
      ? new Cluster({
          url: env.DATABASE_URL,
          db,
          log,
          onRemoteChange: (id) => {
            records.find(id).then(
              (row) => row && feed.deliver(row),
              (err: Error) => log.warn('reading a changed generation failed', { id, error: err.message }),
            );
          },
          onLeadership: (leading) => (leading ? tracker.start() : tracker.stop()),
          // Changes may have been missed while the session was down: re-read what this replica's listeners watch.
          onResync: () => {
            for (const id of feed.watched())
              records.find(id).then(
                (row) => row && feed.deliver(row),
                () => {},
              );
          },
        })
      : null;
  if (cluster) {
    feed.announce = (row) => cluster.announce(row);
    await cluster.start();
    app.addHook('onClose', async () => cluster.stop());
  } else if (deps.track ?? true) {
    tracker.start();
    app.addHook('onClose', async () => tracker.stop());
  }
  const workers = new WorkerDirectory(temporal, { generation: env.TEMPORAL_TASK_QUEUE, media: env.MEDIA_TASK_QUEUE });

  // --- plugins ---------------------------------------------------------------------------------------
  registerObservability(app);
  registerJsonBody(app);
  // On every answer, errors and preflights included (set as the request arrives: a synchronous hook costs no promise).
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    reply.header('x-content-type-options', 'nosniff');
    done();
  });
  await registerCors(app, hostList(env.CORS_ORIGINS));
  registerAuth(app, {
    keys,
    basic: env.BASIC_AUTH_USER && env.BASIC_AUTH_PASSWORD ? { user: env.BASIC_AUTH_USER, password: env.BASIC_AUTH_PASSWORD } : null,
    production: isProduction(env),
    failuresMax: env.RATE_LIMIT_ENABLED ? env.RATE_LIMIT_AUTH_FAILURES_MAX : null,
    windowMs: env.RATE_LIMIT_WINDOW_MS,
    redis: deps.redis ?? null,
    counterSecret: env.WORKFLOW_SECRET_KEY ?? '',
    isPublic: (req: FastifyRequest) => req.method === 'OPTIONS' || PUBLIC_PATHS.test(req.url.split('?')[0]!),
  });
  if (env.RATE_LIMIT_ENABLED)
    await registerRateLimit(app, {
      windowMs: env.RATE_LIMIT_WINDOW_MS,
      max: env.RATE_LIMIT_MAX,
      anonymousMax: env.RATE_LIMIT_ANON_MAX,
      redis: deps.redis ?? null,
    });
  await registerOpenApi(app);
  registerErrors(app, { bodyLimit: env.BODY_LIMIT_BYTES, rateLimited: env.RATE_LIMIT_ENABLED, log });

  // --- routes ----------------------------------------------------------------------------------------
  await app.register(healthRoutes, { temporal, database, storage, workers });
  await app.register(catalogueRoutes);
  await app.register(generationRoutes, { commands, records, observer, webhookPolicy: webhookDeps ? webhookPolicy : null });
  await app.register(eventRoutes, {
    records,
    observer,
    feed,
    heartbeatMs: env.SSE_HEARTBEAT_MS,
    follows: (id) => tracker.follows(id),
    log,
  });
  await app.register(mediaRoutes, { storage });
  await app.register(keyRoutes, { keys });
  await app.register(dashboardRoutes, { storage, log });

  return { app, keys, tracker, cluster, webhookDeps };
}
