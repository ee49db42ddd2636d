/**
 * Every Prometheus metric of the platform, defined once (prom-client, one registry per process). Each process
 * exports the ones it feeds on its `/metrics`: the gateway on its metrics port, the workers on their health server.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'gptmarket_process_' });

const seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const longSeconds = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export const metrics = {
  /** Gateway: every HTTP request, by route pattern (never the raw URL) and status. */
  httpDuration: new Histogram({
    name: 'gptmarket_http_request_duration_seconds',
    help: 'HTTP request latency of the gateway',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: seconds,
    registers: [registry],
  }),
  /** Gateway: generations accepted and started, by type. */
  generationsStarted: new Counter({
    name: 'gptmarket_generations_started_total',
    help: 'Generations started, by type',
    labelNames: ['type'] as const,
    registers: [registry],
  }),
  /** Gateway: generations that reached a terminal state (completed, failed, cancelled), by type. */
  generationsFinished: new Counter({
    name: 'gptmarket_generations_finished_total',
    help: 'Generations finished, by type and terminal status',
    labelNames: ['type', 'status'] as const,
    registers: [registry],
  }),
  /** Workers: each activity (a workflow step's work), by activity type and outcome. */
  stepDuration: new Histogram({
    name: 'gptmarket_step_duration_seconds',
    help: 'Duration of each activity attempt (the work of a workflow step)',
    labelNames: ['activity', 'task_queue', 'outcome'] as const,
    buckets: longSeconds,
    registers: [registry],
  }),
  /** Generation worker: each provider HTTP request (one attempt), by provider, model and outcome. */
  providerDuration: new Histogram({
    name: 'gptmarket_provider_request_duration_seconds',
    help: 'Latency of provider requests (each attempt)',
    labelNames: ['provider', 'model', 'outcome'] as const,
    buckets: longSeconds,
    registers: [registry],
  }),
  providerErrors: new Counter({
    name: 'gptmarket_provider_errors_total',
    help: 'Provider requests that failed, by error code (rate_limited for HTTP 429)',
    labelNames: ['provider', 'model', 'code'] as const,
    registers: [registry],
  }),
  providerRateLimited: new Counter({
    name: 'gptmarket_provider_rate_limited_total',
    help: 'Provider answers of HTTP 429 (rate limited)',
    labelNames: ['provider', 'model'] as const,
    registers: [registry],
  }),
  /** Media worker: wall-clock seconds of each FFmpeg run, and media seconds rendered per wall second. */
  ffmpegSeconds: new Histogram({
    name: 'gptmarket_ffmpeg_render_seconds',
    help: 'Wall-clock seconds of FFmpeg renders',
    labelNames: ['outcome'] as const,
    buckets: longSeconds,
    registers: [registry],
  }),
  ffmpegRealtime: new Histogram({
    name: 'gptmarket_ffmpeg_realtime_factor',
    help: 'Seconds of output media rendered per wall-clock second (above 1: faster than real time)',
    buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32],
    registers: [registry],
  }),
  /**
   * Gateway: what generations cost once ended (their actual cost, else the estimate of what was paid), in USD, by
   * API key (`open` without keys), provider and model; counted once per generation across replicas.
   */
  generationCost: new Counter({
    name: 'gptmarket_generation_cost_usd_total',
    help: 'Cost of ended generations in USD by API key, provider and model',
    labelNames: ['api_key', 'provider', 'model'] as const,
    registers: [registry],
  }),
  /** Gateway: webhook delivery attempts, by outcome (delivered; refused: a non-2xx answer; unreachable; gave_up). */
  webhookDeliveries: new Counter({
    name: 'gptmarket_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  }),
};

/** The process's metrics in the Prometheus text format, with `extra` exposition text (Temporal's) appended. */
export async function metricsText(extra?: () => Promise<string>): Promise<string> {
  const own = await registry.metrics();
  const more = extra ? await extra().catch(() => '') : '';
  return more ? `${own.trimEnd()}\n${more}` : own;
}

export const METRICS_CONTENT_TYPE = registry.contentType;
