import { z } from 'zod';
import {
  deploymentEnvShape,
  integer,
  loadEnv,
  optionalString,
  stringWithDefault,
  temporalEnvRule,
  temporalEnvShape,
} from '@gptmarket/runtime';
import { storageEnvShape } from '@gptmarket/storage';
import { workerProcessEnvShape } from '@gptmarket/worker-runtime';
import { MEDIA_QUEUE } from '@gptmarket/contracts';

/** Every variable the media worker reads. */
export const mediaWorkerEnv = z.object({
  ...deploymentEnvShape,
  LOG_LEVEL: stringWithDefault('info'),
  ...temporalEnvShape,
  MEDIA_TASK_QUEUE: stringWithDefault(MEDIA_QUEUE),
  /** FFmpeg renders at once; each uses most of a core. */
  MEDIA_MAX_CONCURRENT_RENDERS: integer(2, 1, 64),
  /**
   * How much lower FFmpeg's CPU priority is (`nice`, 0–19; 0 runs it at the worker's). Renders are batch work: on a
   * machine shared with Temporal, the gateway and the workers, they must not take the CPU those need to move runs on.
   */
  MEDIA_FFMPEG_NICE: integer(10, 0, 19),
  /** Largest input a render downloads, in megabytes. */
  MEDIA_MAX_INPUT_MB: integer(1024, 1, 20_000),
  /** Hosts (host or host:port, comma separated) media may be fetched from even when private, e.g. an internal CDN. */
  MEDIA_ALLOWED_HOSTS: optionalString(),
  /** Parent directory of the per-activity temp directories (the OS temp dir by default). */
  MEDIA_TEMP_DIR: optionalString(),
  /** Directory of font files (Debian's layout under /usr/share/fonts/truetype by default). */
  FONT_DIR: optionalString(),
  GATEWAY_PUBLIC_URL: stringWithDefault('http://localhost:3000'),
  ...workerProcessEnvShape(60),
  ...storageEnvShape,
});
export type MediaWorkerEnv = z.infer<typeof mediaWorkerEnv>;

export const loadMediaWorkerEnv = (source: NodeJS.ProcessEnv = process.env): MediaWorkerEnv =>
  loadEnv(mediaWorkerEnv.superRefine(temporalEnvRule), source, 'media-worker');
