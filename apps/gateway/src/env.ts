import { z } from 'zod';
import { join } from 'node:path';
import {
  deploymentEnvShape,
  booleanFlag,
  dataDir,
  integer,
  loadEnv,
  localPath,
  optionalString,
  secretString,
  stringWithDefault,
  temporalEnvRule,
  temporalEnvShape,
  tracingEnvShape,
} from '@gptmarket/runtime';
import { storageEnvShape } from '@gptmarket/storage';
import { GENERATION_QUEUE, MEDIA_QUEUE } from '@gptmarket/contracts';

/** Every variable the gateway reads. */
export const gatewayEnv = z.object({
  ...deploymentEnvShape,
  LOG_LEVEL: stringWithDefault('info'),
  /** Address and port the HTTP server listens on. */
  HOST: stringWithDefault('127.0.0.1'),
  PORT: integer(3000, 0, 65535),
  /** The URL clients reach the gateway at; local media URLs are built from it. */
  GATEWAY_PUBLIC_URL: optionalString(),
  /** Trust X-Forwarded-For from this many proxy hops (for per-IP rate limits behind Traefik/Dokploy). */
  TRUST_PROXY_HOPS: integer(0, 0, 10),
  /** PostgreSQL URL; when unset an embedded PGlite database is used (kept in PGLITE_DIR). */
  DATABASE_URL: optionalString(),
  /** The embedded database's directory; default `pglite` in the data directory (see pgliteDir). */
  PGLITE_DIR: optionalString(),
  /** The data directory, shared with the dev script (packages/runtime/src/paths.ts). */
  GPTMARKET_DATA_DIR: stringWithDefault('.data'),
  ...temporalEnvShape,
  /** The generation workers' task queue: generations and webhook deliveries start there. */
  TEMPORAL_TASK_QUEUE: stringWithDefault(GENERATION_QUEUE),
  /** The media workers' task queue (only read to count its workers in /ready). */
  MEDIA_TASK_QUEUE: stringWithDefault(MEDIA_QUEUE),
  /** The workflow secret; the gateway sends per-workflow tokens derived from it, never the secret itself. */
  WORKFLOW_SECRET_KEY: secretString(),
  /** Optional HTTP basic auth for small installs (both or neither). */
  BASIC_AUTH_USER: optionalString(),
  BASIC_AUTH_PASSWORD: secretString(),
  /** Browser origins allowed to call the API (comma separated); none when unset. */
  CORS_ORIGINS: optionalString(),
  /**
   * Rate limits: requests per window per API key (a key may carry its own) and per IP without a key; failed
   * authentication attempts per IP and presented credential. RATE_LIMIT_ENABLED=false turns all of them off.
   */
  RATE_LIMIT_ENABLED: booleanFlag(true),
  RATE_LIMIT_WINDOW_MS: integer(60_000, 1_000, 86_400_000),
  RATE_LIMIT_MAX: integer(120, 1, 1_000_000),
  RATE_LIMIT_ANON_MAX: integer(60, 1, 1_000_000),
  RATE_LIMIT_AUTH_FAILURES_MAX: integer(10, 1, 10_000),
  /** Largest request body in bytes. */
  BODY_LIMIT_BYTES: integer(256 * 1024, 1024, 16 * 1024 * 1024),
  /** Secret that signs webhook deliveries; webhooks are refused while it is unset. */
  WEBHOOK_SIGNING_SECRET: secretString(),
  /** Hosts (host or host:port) webhooks may reach even when private, e.g. an internal service. */
  WEBHOOK_ALLOWED_HOSTS: optionalString(),
  /** Delivery attempts per webhook event before giving up (exponential backoff, capped at 10 minutes). */
  WEBHOOK_MAX_ATTEMPTS: integer(25, 1, 100),
  /** Run the webhook delivery activities in this process (one gateway replica or more should). */
  GATEWAY_WEBHOOK_WORKER: booleanFlag(true),
  /**
   * The tracker's safety net: how often unfinished generations that no long poll follows (beyond
   * TRACKER_MAX_WATCHES, after a restart or a change of leader) are observed. Followed ones are pushed at once.
   */
  TRACKER_INTERVAL_MS: integer(2_000, 50, 60_000),
  /** Workflows the tracker follows by long-polling their history at once (one gRPC stream each). */
  TRACKER_MAX_WATCHES: integer(200, 0, 10_000),
  /**
   * Redis shared by gateway replicas (redis://[:password@]host:port): rate limits and failed-login counters then
   * hold across all replicas. Unset: each process counts alone (one gateway).
   */
  REDIS_URL: secretString(),
  /**
   * Port of the Prometheus endpoint (GET /metrics), a listener apart from the API so it is never on the public
   * port; 0 turns it off. METRICS_HOST: its address (the private network's interface in a container).
   */
  METRICS_PORT: integer(0, 0, 65535),
  METRICS_HOST: stringWithDefault('127.0.0.1'),
  ...tracingEnvShape,
  /** SSE comment heartbeat interval. */
  SSE_HEARTBEAT_MS: integer(15_000, 100, 300_000),
  ...storageEnvShape,
});
export type GatewayEnv = z.infer<typeof gatewayEnv>;

export const loadGatewayEnv = (source: NodeJS.ProcessEnv = process.env): GatewayEnv => {
  const env = loadEnv(gatewayEnv.superRefine(temporalEnvRule), source, 'gateway');
  if (Boolean(env.BASIC_AUTH_USER) !== Boolean(env.BASIC_AUTH_PASSWORD)) {
    return loadEnv(
      gatewayEnv.refine(() => false, {
        message: 'set both BASIC_AUTH_USER and BASIC_AUTH_PASSWORD, or neither',
        path: ['BASIC_AUTH_PASSWORD'],
      }),
      source,
      'gateway',
    );
  }
  return env;
};

export const publicUrlOf = (env: GatewayEnv): string =>
  (env.GATEWAY_PUBLIC_URL ?? `http://${env.HOST === '0.0.0.0' ? 'localhost' : env.HOST}:${env.PORT}`).replace(/\/+$/, '');

/**
 * Where the embedded database lives: PGLITE_DIR, or `pglite` in the data directory. Relative paths count from
 * the checkout's root, so the gateway and its `keys` command open the same database from any working directory.
 */
export const pgliteDir = (env: Pick<GatewayEnv, 'PGLITE_DIR' | 'GPTMARKET_DATA_DIR'>): string =>
  env.PGLITE_DIR ? localPath(env.PGLITE_DIR) : join(dataDir(env.GPTMARKET_DATA_DIR), 'pglite');

/** The database a process opens: PostgreSQL when DATABASE_URL is set, else the embedded one. */
export const databaseOptions = (env: GatewayEnv) => (env.DATABASE_URL ? { url: env.DATABASE_URL } : { pgliteDir: pgliteDir(env) });

/** Which database that is, for people (never the password). */
export function databaseLabel(env: GatewayEnv): string {
  if (!env.DATABASE_URL) return `embedded PGlite in ${pgliteDir(env)}`;
  try {
    const url = new URL(env.DATABASE_URL);
    return `PostgreSQL ${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
  } catch {
    return 'PostgreSQL (DATABASE_URL)';
  }
}

export const hostList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
