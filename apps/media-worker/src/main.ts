import { createLogger } from '@gptmarket/providers';
import { loadMediaWorkerEnv } from './env.js';
import { createMediaWorker } from './worker.js';

const env = loadMediaWorkerEnv();
const log = createLogger('media-worker', env.LOG_LEVEL);
try {
  const { worker, connection } = await createMediaWorker(env);
  const running = worker.run();
  log.info('media-worker ready', { taskQueue: env.MEDIA_TASK_QUEUE });
  await running;
  await connection.close();
  log.info('media-worker stopped');
} catch (err) {
  log.error('media-worker failed', { error: (err as Error).message });
  process.exit(1);
}
