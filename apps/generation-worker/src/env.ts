import { z } from 'zod';
import {
  deploymentEnvShape,
  booleanFlag,
  integer,
  loadEnv,
  optionalString,
  secretString,
  stringWithDefault,
  temporalEnvRule,
  temporalEnvShape,
} from '@gptmarket/runtime';
import { storageEnvShape } from '@gptmarket/storage';
import { workerProcessEnvShape } from '@gptmarket/worker-runtime';
import { offlineAllowance, providersEnvShape } from '@gptmarket/providers';
import { DEFAULT_WORKER_SETTINGS, GENERATION_QUEUE } from '@gptmarket/contracts';

/** Every variable the generation worker reads. */
export const generationWorkerEnv = z.object({
  ...deploymentEnvShape,
  LOG_LEVEL: stringWithDefault('info'),
  ...temporalEnvShape,
  TEMPORAL_TASK_QUEUE: stringWithDefault(GENERATION_QUEUE),
  /** The media worker's task queue: the workflows send their FFmpeg steps there (set it like the media worker's). */
  MEDIA_TASK_QUEUE: stringWithDefault(DEFAULT_WORKER_SETTINGS.media_task_queue),
  /** How long a media step waits for a media worker to pick it up before it fails (instead of waiting forever). */
  MEDIA_WORKER_WAIT_SECONDS: integer(DEFAULT_WORKER_SETTINGS.media_wait_seconds, 1, 7 * 24 * 3600),
  /** Check `secret_key` in every workflow input (default on, as the deployment guide says). */
  WORKFLOW_SECRET_ENABLED: booleanFlag(true),
  WORKFLOW_SECRET_KEY: secretString(),
  /** The previous secret, still accepted while a rotation is rolling out. */
  WORKFLOW_SECRET_KEY_PREVIOUS: secretString(),
  /** Upper bound of activities this worker runs at once. */
  WORKER_MAX_CONCURRENT_ACTIVITIES: integer(20, 1, 1000),
  /** Public URL of local media (the gateway's /media); used only by the local storage driver. */
  GATEWAY_PUBLIC_URL: stringWithDefault('http://localhost:3000'),
  ...workerProcessEnvShape(30),
  ...storageEnvShape,
  /** Provider keys and base URLs; a provider without a key is replaced by the offline local provider. */
  ...providersEnvShape,
  /**
   * Capabilities that may run on the offline local provider in production (NODE_ENV or ENVIRONMENT; true, or names such as
   * `pinterest,speech`); without it a production worker with a capability lacking its key refuses to start.
   */
  ALLOW_OFFLINE_PROVIDERS: offlineAllowance(),
  /**
   * Hosts (host or host:port, comma-separated) that provider outputs may be downloaded from even when they
   * resolve to private addresses (e.g. a self-hosted fake); public hosts are always allowed.
   */
  PROVIDER_DOWNLOAD_ALLOWED_HOSTS: optionalString(),
  /** Largest provider output re-hosted into our storage. */
  PROVIDER_OUTPUT_MAX_BYTES: integer(512 * 1024 * 1024, 1024, 8 * 1024 * 1024 * 1024),
});
export type GenerationWorkerEnv = z.infer<typeof generationWorkerEnv>;

export const loadGenerationWorkerEnv = (source: NodeJS.ProcessEnv = process.env): GenerationWorkerEnv =>
  loadEnv(generationWorkerEnv.superRefine(temporalEnvRule), source, 'generation-worker');
