import { createLogger } from '@gptmarket/runtime';
import { runWorker } from '@gptmarket/worker-runtime';
import { loadMediaWorkerEnv } from './env.js';
import { createMediaWorker, mediaWorkerHealth } from './worker.js';

const env = loadMediaWorkerEnv();
await runWorker({
  name: 'media-worker',
  log: createLogger('media-worker', env.LOG_LEVEL),
  create: () => createMediaWorker(env),
  health: { host: env.HEALTH_HOST, port: env.HEALTH_PORT, rule: mediaWorkerHealth },
  ready: { taskQueue: env.MEDIA_TASK_QUEUE },
  env,
});
