import { createLogger } from '@gptmarket/runtime';
import { runWorker } from '@gptmarket/worker-runtime';
import { loadGenerationWorkerEnv } from './env.js';
import { createGenerationWorker, generationWorkerHealth, startRefusal } from './worker.js';

const env = loadGenerationWorkerEnv();
const log = createLogger('generation-worker', env.LOG_LEVEL);
const refusal = startRefusal(env);
if (refusal) {
  log.error(`refusing to start: ${refusal}`);
  process.exit(78);
}
await runWorker({
  name: 'generation-worker',
  log,
  create: () => createGenerationWorker(env),
  health: { host: env.HEALTH_HOST, port: env.HEALTH_PORT, rule: generationWorkerHealth },
  ready: { taskQueue: env.TEMPORAL_TASK_QUEUE },
  env,
});
