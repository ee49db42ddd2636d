import { createLogger } from '@gptmarket/runtime';
import { startHealthServer } from './health.js';
import { loadGenerationWorkerEnv } from './env.js';
import { createGenerationWorker, startRefusal } from './worker.js';

const env = loadGenerationWorkerEnv();
const log = createLogger('generation-worker', env.LOG_LEVEL);
const refusal = startRefusal(env);
if (refusal) {
  log.error(`refusing to start: ${refusal}`);
  process.exit(78);
}
try {
  const { worker, connection } = await createGenerationWorker(env);
  // worker.run() resolves after SIGINT/SIGTERM once running activities finished (or the grace time passed).
  const running = worker.run();
  const health = env.HEALTH_PORT ? await startHealthServer(worker, { host: env.HEALTH_HOST, port: env.HEALTH_PORT }) : undefined;
  log.info('generation-worker ready', { taskQueue: env.TEMPORAL_TASK_QUEUE, healthPort: health?.port });
  try {
    await running;
  } finally {
    await health?.close();
  }
  await connection.close();
  log.info('generation-worker stopped');
} catch (err) {
  log.error('generation-worker failed', { error: (err as Error).message });
  process.exit(1);
}
