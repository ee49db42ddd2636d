import type { NativeConnection } from '@temporalio/worker';
import { createLogger } from '@gptmarket/runtime';
import { createStorage } from '@gptmarket/storage';
import { createWorker, drainOptions, workerHealthRule, type TemporalWorker } from '@gptmarket/worker-runtime';
import { createMediaActivities } from './activities.js';
import type { MediaWorkerEnv } from './env.js';

/** This worker runs activities only (no workflows are registered), so only the activity poller must be polling. */
export const mediaWorkerHealth = workerHealthRule({ workflows: false });

export async function createMediaWorker(env: MediaWorkerEnv, connection?: NativeConnection): Promise<TemporalWorker> {
  const log = createLogger('media-worker', env.LOG_LEVEL);
  const storage = createStorage(env, { localPublicBaseUrl: `${env.GATEWAY_PUBLIC_URL.replace(/\/+$/, '')}/media` });
  const allowHosts = (env.MEDIA_ALLOWED_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  const created = await createWorker(
    env,
    {
      taskQueue: env.MEDIA_TASK_QUEUE,
      activities: createMediaActivities({
        storage,
        policy: { allowHosts },
        maxInputBytes: env.MEDIA_MAX_INPUT_MB * 1024 * 1024,
        fontDir: env.FONT_DIR,
        tempRoot: env.MEDIA_TEMP_DIR,
        ffmpegNice: env.MEDIA_FFMPEG_NICE,
      }),
      maxConcurrentActivityTaskExecutions: env.MEDIA_MAX_CONCURRENT_RENDERS,
      ...drainOptions(env),
    },
    connection,
  );
  log.info('worker created', { taskQueue: env.MEDIA_TASK_QUEUE, storage: storage.kind });
  return created;
}
