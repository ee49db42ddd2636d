import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WEBHOOK_QUEUE } from '@gptmarket/contracts';
import { openDatabase } from '@gptmarket/db';
import { createLogger, isProduction, serveHealth, startTracing, temporalConnectionOptions } from '@gptmarket/runtime';
import { createStorage, warnIfOutputUrlsExpire } from '@gptmarket/storage';
import { createWorker, installTemporalRuntime, startWorker } from '@gptmarket/worker-runtime';
import { buildApp } from './app.js';
import { databaseLabel, databaseOptions, loadGatewayEnv, pgliteDir, publicUrlOf } from './env.js';
import { connectRedis, redisLabel, redisReady } from './services/redis.js';
import { TemporalGateway } from './services/temporal.js';
import { createWebhookActivities } from './services/webhooks.js';

const env = loadGatewayEnv();
const log = createLogger('gateway', env.LOG_LEVEL);
const production = isProduction(env);
// Before anything connects: traces (when OTEL_EXPORTER_OTLP_ENDPOINT is set), and the Temporal runtime of the
// webhook worker (its logs as our lines, its SDK metrics appended to ours).
const tracing = startTracing('gateway', env);
const temporalMetrics = await installTemporalRuntime(log, 'gateway');

const database = await openDatabase(databaseOptions(env));
const pidFile = env.DATABASE_URL ? null : join(pgliteDir(env), 'gateway.pid');
if (pidFile) writeFileSync(pidFile, String(process.pid));
const temporal = new TemporalGateway({ ...temporalConnectionOptions(env), namespace: env.TEMPORAL_NAMESPACE });
// Connects now to say at start when Temporal cannot be reached or refuses us (requests retry the connection).
temporal.get().catch((err: Error) => log.warn('Temporal is not reachable yet', { error: err.message }));
const storage = createStorage(env, { localPublicBaseUrl: `${publicUrlOf(env)}/media` });
const redis = env.REDIS_URL ? connectRedis(env.REDIS_URL, log) : null;
if (redis && !(await redisReady(redis, 5_000))) {
  log.error(
    `REDIS_URL is set but Redis at ${redisLabel(env.REDIS_URL!)} does not answer: starting anyway; rate limits fail open until it does`,
  );
}
if (redis && !env.WORKFLOW_SECRET_KEY)
  log.warn('set WORKFLOW_SECRET_KEY: the failed-login counters in Redis derive their key names from it');
const { app, keys, webhookDeps, cluster } = await buildApp({ env, database, temporal, storage, log, redis });

// The production rule: never run open in production.
const activeKeys = await keys.countActive();
const basic = Boolean(env.BASIC_AUTH_USER && env.BASIC_AUTH_PASSWORD);
if (activeKeys === 0 && !basic) {
  if (production) {
    log.error(
      'refusing to start: no authentication configured. Create an API key (gptmarket-gateway keys create --name NAME) or set BASIC_AUTH_USER and BASIC_AUTH_PASSWORD.',
    );
    process.exit(78);
  }
  log.warn(
    '!!! the API is OPEN: no API keys and no basic auth. Fine on your machine; never in production (NODE_ENV=production or ENVIRONMENT=production refuses to start like this).',
  );
}
warnIfOutputUrlsExpire(storage, env, log);
if (!env.WORKFLOW_SECRET_KEY) log.warn('WORKFLOW_SECRET_KEY is not set: workers with auth enabled will refuse every workflow');

// Webhook deliveries run as activities here (this process owns the signing secret and the records).
const webhookWorker =
  webhookDeps && env.GATEWAY_WEBHOOK_WORKER
    ? startWorker(
        await createWorker(env, {
          taskQueue: WEBHOOK_QUEUE,
          activities: createWebhookActivities(webhookDeps),
          maxConcurrentActivityTaskExecutions: 20,
        }),
      )
    : null;

const address = await app.listen({ host: env.HOST, port: env.PORT });
// Prometheus scrapes a port of its own: /metrics is never on the API's public port.
const metricsServer = env.METRICS_PORT
  ? await serveHealth({ host: env.METRICS_HOST, port: env.METRICS_PORT, metrics: temporalMetrics })
  : null;
log.info('gateway ready', {
  address,
  metricsPort: metricsServer?.port,
  publicUrl: publicUrlOf(env),
  database: databaseLabel(env),
  storage: storage.kind,
  webhooks: Boolean(webhookWorker),
  shared: { redis: redis ? redisLabel(env.REDIS_URL!) : false, changes: Boolean(cluster) },
});

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (closing) return;
    closing = true;
    log.info('gateway stopping', { signal });
    await app.close();
    await metricsServer?.close();
    await webhookWorker?.stop();
    redis?.disconnect();
    await tracing.flush();
    await temporal.close();
    await database.close();
    if (pidFile && existsSync(pidFile)) rmSync(pidFile, { force: true });
    process.exit(0);
  });
}
