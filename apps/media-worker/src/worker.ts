import { NativeConnection, Worker } from '@temporalio/worker';
import { createLogger, temporalAddress } from '@gptmarket/runtime';
import { createStorage } from '@gptmarket/storage';
import { createMediaActivities } from './activities.js';
import type { MediaWorkerEnv } from './env.js';

export async function createMediaWorker(env: MediaWorkerEnv, connection?: NativeConnection): Promise<{ worker: Worker; connection: NativeConnection }> {
  const log = createLogger('media-worker', env.LOG_LEVEL);
  const storage = createStorage(env, { localPublicBaseUrl: `${env.GATEWAY_PUBLIC_URL.replace(/\/+$/, '')}/media` });
  const conn = connection ?? (await NativeConnection.connect({ address: temporalAddress(env) }));
  const allowHosts = (env.MEDIA_ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim()).filter(Boolean);
  const worker = await Worker.create({
    connection: conn,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.MEDIA_TASK_QUEUE,
    activities: createMediaActivities({
      storage,
      policy: { allowHosts },
      maxInputBytes: env.MEDIA_MAX_INPUT_MB * 1024 * 1024,
      fontDir: env.FONT_DIR,
      tempRoot: env.MEDIA_TEMP_DIR,
    }),
    maxConcurrentActivityTaskExecutions: env.MEDIA_MAX_CONCURRENT_RENDERS,
    shutdownGraceTime: `${env.WORKER_SHUTDOWN_GRACE_SECONDS}s`,
    // Heartbeats reach the server within 2 s, so a cancel reaches a running activity that fast.
    maxHeartbeatThrottleInterval: '2s',
    defaultHeartbeatThrottleInterval: '2s',
  });
  log.info('worker created', { taskQueue: env.MEDIA_TASK_QUEUE, storage: storage.kind });
  return { worker, connection: conn };
}
