import { randomBytes } from 'node:crypto';
import { openDatabase } from '@gptmarket/db';
import { createLogger, createStorage, temporalAddress } from '@gptmarket/providers';
import { buildApp } from './app.js';
import { loadGatewayEnv, publicUrlOf } from './env.js';
import { TemporalGateway } from './services/temporal.js';

const env = loadGatewayEnv();
const log = createLogger('gateway', env.LOG_LEVEL);

const database = await openDatabase({ url: env.DATABASE_URL, pgliteDir: env.DATABASE_URL ? undefined : env.PGLITE_DIR });
const temporal = new TemporalGateway({ address: temporalAddress(env), namespace: env.TEMPORAL_NAMESPACE });
const storage = createStorage(env, { localPublicBaseUrl: `${publicUrlOf(env)}/media` });
const has = (name: string) => Boolean(process.env[name]?.trim());
const app = await buildApp({
  database,
  temporal,
  storage,
  log,
  taskQueue: env.TEMPORAL_TASK_QUEUE,
  workflowSecret: env.WORKFLOW_SECRET_KEY,
  bodyLimit: env.BODY_LIMIT_BYTES,
  providers: {
    openai: has('OPENAI_API_KEY'),
    replicate: has('REPLICATE_API_KEY'),
    gemini: has('GEMINI_API_KEY'),
    elevenlabs: has('ELEVENLABS_API_KEY'),
    cartesia: has('CARTESIA_API_KEY'),
    gptmarket: has('GPTMARKET_API_KEY'),
    assemblyai: has('ASSEMBLYAI_API_KEY'),
  },
});
if (!env.WORKFLOW_SECRET_KEY) log.warn('WORKFLOW_SECRET_KEY is not set: workers with auth enabled will refuse every workflow');

const address = await app.listen({ host: env.HOST, port: env.PORT });
log.info('gateway ready', { address, publicUrl: publicUrlOf(env), database: database.kind, storage: storage.kind, instance: randomBytes(3).toString('hex') });

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (closing) return;
    closing = true;
    log.info('gateway stopping', { signal });
    await app.close();
    await temporal.close();
    await database.close();
    process.exit(0);
  });
}
