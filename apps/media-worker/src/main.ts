import { createLogger } from '@gptmarket/runtime';
import { startHealthServer } from './health.js';
import { loadMediaWorkerEnv } from './env.js';
import { createMediaWorker } from './worker.js';

const env = loadMediaWorkerEnv();
const log = createLogger('media-worker', env.LOG_LEVEL);
try {
  const { worker, connection } = await createMediaWorker(env);
  const running = worker.run();
  const health = env.HEALTH_PORT ? await startHealthServer(worker, { host: env.HEALTH_HOST, port: env.HEALTH_PORT }) : undefined;
  log.info('media-worker ready', { taskQueue: env.MEDIA_TASK_QUEUE, healthPort: health?.port });
  try {
    await running;
  } finally {
    await health?.close();
  }
  await connection.close();
  log.info('media-worker stopped');
} catch (err) {
  log.error('media-worker failed', { error: (err as Error).message });
  process.exit(1);
}
