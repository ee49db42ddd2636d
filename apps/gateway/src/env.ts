import { z } from 'zod';
import { integer, loadEnv, optionalString, secretString, storageEnvShape, stringWithDefault, temporalEnvShape } from '@gptmarket/providers';
import { GENERATION_QUEUE } from '@gptmarket/contracts';

/** Every variable the gateway reads. */
export const gatewayEnv = z.object({
  NODE_ENV: stringWithDefault('development'),
  LOG_LEVEL: stringWithDefault('info'),
  /** Address and port the HTTP server listens on. */
  HOST: stringWithDefault('127.0.0.1'),
  PORT: integer(3000, 0, 65535),
  /** The URL clients reach the gateway at; local media URLs are built from it. */
  GATEWAY_PUBLIC_URL: optionalString(),
  /** PostgreSQL URL; when unset an embedded PGlite database is used (kept in PGLITE_DIR). */
  DATABASE_URL: optionalString(),
  PGLITE_DIR: stringWithDefault('.data/pglite'),
  ...temporalEnvShape,
  TEMPORAL_TASK_QUEUE: stringWithDefault(GENERATION_QUEUE),
  /** The workflow secret; the gateway sends per-workflow tokens derived from it, never the secret itself. */
  WORKFLOW_SECRET_KEY: secretString(),
  /** Largest request body in bytes. */
  BODY_LIMIT_BYTES: integer(256 * 1024, 1024, 16 * 1024 * 1024),
  ...storageEnvShape,
});
export type GatewayEnv = z.infer<typeof gatewayEnv>;

export const loadGatewayEnv = (source: NodeJS.ProcessEnv = process.env): GatewayEnv => loadEnv(gatewayEnv, source, 'gateway');

export const publicUrlOf = (env: GatewayEnv): string =>
  (env.GATEWAY_PUBLIC_URL ?? `http://${env.HOST === '0.0.0.0' ? 'localhost' : env.HOST}:${env.PORT}`).replace(/\/+$/, '');
