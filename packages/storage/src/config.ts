import { z } from 'zod';
import { join } from 'node:path';
import {
  dataDir,
  integer,
  isProduction,
  localPath,
  optionalString,
  secretString,
  stringWithDefault,
  urlString,
  booleanFlag,
  type Logger,
} from '@gptmarket/runtime';
import { LocalStorage } from './local.js';
import { S3Storage } from './s3.js';
import type { Storage } from './types.js';

/** Storage variables, shared by every process that reads or writes media. */
export const storageEnvShape = {
  /**
   * Directory for the local driver (used when neither R2 nor S3 is configured); default `media` in the data
   * directory (GPTMARKET_DATA_DIR), relative paths from the checkout's root, like every local path (paths.ts).
   */
  LOCAL_STORAGE_DIR: optionalString(),
  /** Public base URL of local media; the gateway serves the directory under /media. */
  PUBLIC_MEDIA_BASE_URL: urlString(),
  S3_BUCKET: optionalString(),
  S3_REGION: stringWithDefault('us-east-1'),
  S3_ACCESS_KEY: secretString(),
  S3_SECRET_KEY: secretString(),
  S3_ENDPOINT_URL: urlString(),
  S3_PUBLIC_URL_BASE: urlString(),
  /**
   * Upload S3 objects with the `public-read` ACL and hand out the standard bucket URL (`{S3_ENDPOINT_URL}/{bucket}/{key}`,
   * or `https://{bucket}.s3.{region}.amazonaws.com/{key}`), as the Python system did. Needs a bucket that allows ACLs.
   */
  S3_PUBLIC_READ: booleanFlag(false),
  S3_FORCE_PATH_STYLE: booleanFlag(false),
  R2_BUCKET: optionalString(),
  R2_ENDPOINT_URL: urlString(),
  R2_ACCESS_KEY_ID: secretString(),
  R2_SECRET_ACCESS_KEY: secretString(),
  R2_PUBLIC_BASE_URL: urlString(),
  /** Lifetime of the presigned URLs a private bucket hands out (max 7 days; the gateway re-signs on every read). */
  STORAGE_PRESIGN_SECONDS: integer(7 * 24 * 3600, 60, 7 * 24 * 3600),
};
const storageEnv = z.object(storageEnvShape);
export type StorageEnv = z.infer<typeof storageEnv>;

export function selectedStorageKind(env: StorageEnv): 'r2' | 's3' | 'local' {
  if (env.R2_BUCKET && env.R2_ACCESS_KEY_ID && env.R2_SECRET_ACCESS_KEY) return 'r2';
  if (env.S3_BUCKET && env.S3_ACCESS_KEY && env.S3_SECRET_KEY) return 's3';
  return 'local';
}

/** R2 if its three variables are set, else S3 if its three are set, else the local directory (as the Python system chose). */
export function createStorage(env: StorageEnv, defaults: { localPublicBaseUrl: string }): Storage {
  const kind = selectedStorageKind(env);
  if (kind === 'r2') {
    if (!env.R2_ENDPOINT_URL) throw new Error('R2_ENDPOINT_URL is required when R2 storage is configured');
    return new S3Storage({
      kind: 'r2',
      bucket: env.R2_BUCKET!,
      region: 'auto',
      accessKeyId: env.R2_ACCESS_KEY_ID!,
      secretAccessKey: env.R2_SECRET_ACCESS_KEY!,
      endpoint: env.R2_ENDPOINT_URL,
      forcePathStyle: true,
      publicBaseUrl: env.R2_PUBLIC_BASE_URL,
      presignSeconds: env.STORAGE_PRESIGN_SECONDS,
    });
  }
  if (kind === 's3') {
    return new S3Storage({
      kind: 's3',
      bucket: env.S3_BUCKET!,
      region: env.S3_REGION,
      accessKeyId: env.S3_ACCESS_KEY!,
      secretAccessKey: env.S3_SECRET_KEY!,
      endpoint: env.S3_ENDPOINT_URL,
      forcePathStyle: env.S3_FORCE_PATH_STYLE || Boolean(env.S3_ENDPOINT_URL),
      publicBaseUrl: env.S3_PUBLIC_URL_BASE,
      publicRead: env.S3_PUBLIC_READ,
      presignSeconds: env.STORAGE_PRESIGN_SECONDS,
    });
  }
  return new LocalStorage({
    dir: env.LOCAL_STORAGE_DIR ? localPath(env.LOCAL_STORAGE_DIR) : join(dataDir(), 'media'),
    publicBaseUrl: env.PUBLIC_MEDIA_BASE_URL ?? defaults.localPublicBaseUrl,
  });
}

/**
 * Says once, at a production start, that the media URLs in workflow outputs will stop working: a private bucket
 * hands out presigned URLs. The gateway re-signs its records on every read; direct Temporal clients keep the URLs
 * the workflow returned.
 */
export function warnIfOutputUrlsExpire(
  storage: Storage,
  env: { NODE_ENV?: string | undefined; ENVIRONMENT?: string | undefined },
  log: Logger,
): void {
  const seconds = storage.urlExpirySeconds;
  if (!isProduction(env) || seconds === null) return;
  const lifetime =
    seconds % 86_400 === 0 ? `${seconds / 86_400} day(s)` : seconds % 3600 === 0 ? `${seconds / 3600} hour(s)` : `${seconds} s`;
  const fix = storage.kind === 'r2' ? 'R2_PUBLIC_BASE_URL' : 'S3_PUBLIC_URL_BASE or S3_PUBLIC_READ=true';
  log.warn(
    `!!! media URLs in workflow outputs EXPIRE within ${lifetime}: the ${storage.kind.toUpperCase()} bucket is private, so they are presigned ` +
      `(STORAGE_PRESIGN_SECONDS=${seconds}). The gateway re-signs them on every read of a generation, but direct Temporal clients ` +
      `(Python-era frontends) keep dead links after that. Set ${fix} for permanent URLs.`,
    { storage: storage.kind, presignSeconds: seconds },
  );
}
