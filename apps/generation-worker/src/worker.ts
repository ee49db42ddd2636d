import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { workerIdentity } from '@gptmarket/contracts';
import { createLogger, currentTracing, isProduction } from '@gptmarket/runtime';
import { createStorage, warnIfOutputUrlsExpire } from '@gptmarket/storage';
import {
  createGptMarket,
  createLlm,
  createOpenAi,
  createOpenAiLlm,
  createReplicate,
  createSpeech,
  createTranscriber,
  createProviderLimiter,
  offlineRefusal,
  providerConcurrency,
  providerPlan,
  providerRate,
  renderTemplate,
  replicateKey,
} from '@gptmarket/providers';
import { createWorker, drainOptions, prebuiltBundleFor, workerHealthRule, type TemporalWorker } from '@gptmarket/worker-runtime';
import { createGenerationActivities } from './activities/index.js';
import { workflowBundlerOptions } from './workflow-bundler.js';
import type { GenerationWorkerEnv } from './env.js';

export const workflowsPath = fileURLToPath(
  new URL('./workflows/index.' + (import.meta.url.endsWith('.ts') ? 'ts' : 'js'), import.meta.url),
);

/**
 * Why this worker must not start, or null: in production, a capability whose provider key is missing would quietly
 * serve placeholder media from the offline provider, unless ALLOW_OFFLINE_PROVIDERS allows it.
 */
export function startRefusal(env: GenerationWorkerEnv): string | null {
  if (!isProduction(env)) return null;
  return offlineRefusal(providerPlan(env), env.ALLOW_OFFLINE_PROVIDERS);
}

/** This worker runs workflows and activities, so both pollers must be polling. */
export const generationWorkerHealth = workerHealthRule({ workflows: true });

/** The task queue of the Replicate activities (image and video) beside the generation queue. */
export const replicateTaskQueue = (generationQueue: string) => `${generationQueue}-replicate`;

/**
 * Server-side pacing of the Replicate queue. One activity task is one paid create (a retried attempt resumes the
 * prediction its heartbeat names instead; the polls run inside the activity), so the queue's dispatch rate,
 * `maxTaskQueueActivitiesPerSecond`, caps the creates of every replica together at `PROVIDER_RATE_REPLICATE` per
 * minute. Concurrency stays the Replicate gate's (predictions in flight per process), not the worker's: a slot of the
 * worker is also held while the output is re-hosted, which the gate leaves free.
 */
export function replicateQueueRate(env: NodeJS.ProcessEnv = process.env): Partial<WorkerOptions> {
  const perMinute = providerRate('replicate', env);
  return perMinute > 0 ? { maxTaskQueueActivitiesPerSecond: perMinute / 60 } : {};
}

export async function createGenerationWorker(env: GenerationWorkerEnv, connection?: NativeConnection): Promise<TemporalWorker> {
  const log = createLogger('generation-worker', env.LOG_LEVEL);
  const secrets = [env.WORKFLOW_SECRET_KEY, env.WORKFLOW_SECRET_KEY_PREVIOUS].filter((s): s is string => Boolean(s));
  if (env.WORKFLOW_SECRET_ENABLED && secrets.length === 0) {
    if (isProduction(env)) {
      throw new Error('WORKFLOW_SECRET_ENABLED is true but WORKFLOW_SECRET_KEY is not set: refusing to start in production');
    }
    log.warn('WORKFLOW_SECRET_KEY is not set: every workflow will fail with "WORKFLOW_SECRET_KEY not configured on server"');
  }
  const storage = createStorage(env, { localPublicBaseUrl: `${env.GATEWAY_PUBLIC_URL.replace(/\/+$/, '')}/media` });
  const plan = providerPlan(env);
  const offline = Object.entries(plan)
    .filter(([, provider]) => provider === 'local')
    .map(([capability]) => capability);
  if (offline.length > 0)
    log.warn(`the offline local provider (placeholder output) serves ${offline.join(', ')}: no provider key is set for them`);
  warnIfOutputUrlsExpire(storage, env, log);
  // Provider clients: created once per process, shared by every activity. A missing key → the local provider.
  // Replicate's gate keeps the concurrency and the 429 cool-down; its create rate is the task queue's (below), not
  // paced in process (which also paced every poll).
  const replicateQueue = replicateTaskQueue(env.TEMPORAL_TASK_QUEUE);
  const replicate = replicateKey(env)
    ? createReplicate(env, { limiter: createProviderLimiter('replicate', providerConcurrency('replicate')) })
    : null;
  const openai = env.OPENAI_API_KEY ? createOpenAi(env) : undefined;
  const providerClients = {
    replicate,
    downloadPolicy: {
      allowHosts: (env.PROVIDER_DOWNLOAD_ALLOWED_HOSTS ?? '')
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean),
    },
    pollMs: env.REPLICATE_POLL_MS,
    maxOutputBytes: env.PROVIDER_OUTPUT_MAX_BYTES,
    promptLlm: createOpenAiLlm(env, openai ? { openai } : {}),
    promptPath: env.PROMPT_PATH,
    renderTemplate,
    llm: createLlm(env, openai ? { openai } : {}),
    gptmarket: env.GPTMARKET_API_KEY ? createGptMarket(env) : null,
    speech: env.ELEVENLABS_API_KEY || env.CARTESIA_API_KEY ? createSpeech(env) : null,
    transcriber: env.ASSEMBLYAI_API_KEY || openai ? createTranscriber(env, openai ? { openai } : {}) : null,
  };
  const activities = createGenerationActivities({
    storage,
    secrets: { enabled: env.WORKFLOW_SECRET_ENABLED, secrets },
    providers: providerClients,
    settings: {
      media_task_queue: env.MEDIA_TASK_QUEUE,
      media_wait_seconds: env.MEDIA_WORKER_WAIT_SECONDS,
      ...(replicate ? { image_video_task_queue: replicateQueue } : {}),
    },
  });
  // The identity every poll carries reports this worker's providers; the gateway's /ready reads it from Temporal.
  const identity = workerIdentity(`${process.pid}@${hostname()}`, plan);
  // A prebuilt bundle (production image) skips webpack at start; with tracing on, its traced sibling.
  const bundlePath = process.env.WORKFLOW_BUNDLE_PATH;
  const created = await createWorker(
    env,
    {
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      ...(bundlePath && existsSync(bundlePath)
        ? { workflowBundle: { codePath: prebuiltBundleFor(bundlePath, currentTracing(), log) } }
        : { workflowsPath, bundlerOptions: workflowBundlerOptions() }),
      identity,
      // Every activity, the image and video ones included: runs started before their queue existed still call them here.
      activities,
      maxConcurrentActivityTaskExecutions: env.WORKER_MAX_CONCURRENT_ACTIVITIES,
      ...drainOptions(env),
    },
    connection,
  );
  if (replicate) {
    const { worker } = await createWorker(
      env,
      {
        taskQueue: replicateQueue,
        identity,
        activities: { generateImage: activities.generateImage, generateVideo: activities.generateVideo },
        ...replicateQueueRate(),
        maxConcurrentActivityTaskExecutions: env.WORKER_MAX_CONCURRENT_ACTIVITIES,
        ...drainOptions(env),
      },
      created.connection,
    );
    created.companions = [worker];
  }
  log.info('worker created', {
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    ...(replicate ? { replicateTaskQueue: replicateQueue, replicateCreatesPerMinute: providerRate('replicate') || 'unlimited' } : {}),
    mediaTaskQueue: env.MEDIA_TASK_QUEUE,
    namespace: env.TEMPORAL_NAMESPACE,
    storage: storage.kind,
    providers: plan,
  });
  return created;
}
