/**
 * Observability of a Temporal process: its runtime's logs (workflow and activity `log`, and the SDK core's own) as
 * the process's pino JSON lines; the SDK's own worker metrics; step durations and the generation id of each activity;
 * and OpenTelemetry spans of workflows and activities (when tracing is on, `packages/runtime/src/tracing.ts`).
 *
 * Temporal metrics: the SDK core serves them in the Prometheus format on a loopback port of its own, which the
 * process's `/metrics` appends to ours, so one scrape gets both (the core's exporter stays private).
 */
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { LogLevel as TemporalLogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { CancelledFailure, type Context } from '@temporalio/activity';
import { Runtime, makeTelemetryFilterString, type ActivityInterceptors, type WorkerOptions } from '@temporalio/worker';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import { GENERATION_ID_HEADER } from '@gptmarket/contracts';
import { metrics, pinoOf, type Logger, type Tracing } from '@gptmarket/runtime';

const ACTIVITY_STARTED = 'Activity started';
const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/**
 * Temporal's logger interface over the process's pino logger: one JSON line format for everything. The SDK logs
 * "Activity started" before any interceptor has seen the activity's headers, so without its generation id: that
 * line is dropped here and the step interceptor below logs it, with the id, as the activity begins.
 */
function temporalLogger(log: Logger, service: string): TemporalLogger {
  const p = pinoOf(log, service);
  const at = (level: TemporalLogLevel) => (message: string, meta?: LogMetadata) => {
    if (message === ACTIVITY_STARTED && meta?.sdkComponent === 'worker') return;
    p[PINO_LEVEL[level]]({ ...meta }, message);
  };
  return {
    log: (level, message, meta) => at(level)(message, meta),
    trace: at('TRACE'),
    debug: at('DEBUG'),
    info: at('INFO'),
    warn: at('WARN'),
    error: at('ERROR'),
  };
}

const freeLoopbackPort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** The text of a loopback Prometheus endpoint (plain node:http: no client span for every scrape). */
const scrape = (url: string) =>
  new Promise<string>((resolve, reject) => {
    get(url, { timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });

/**
 * Installs the process's Temporal runtime (once, before any worker or native connection): logs through `log`, core
 * logs from WARN up forwarded, and the SDK's metrics on a private loopback port. Answers a reader of those metrics.
 */
export async function installTemporalRuntime(log: Logger, service: string): Promise<() => Promise<string>> {
  const port = await freeLoopbackPort();
  Runtime.install({
    logger: temporalLogger(log, service),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN' }) },
      metrics: { prometheus: { bindAddress: `127.0.0.1:${port}`, useSecondsForDurations: true } },
    },
  });
  return () => scrape(`http://127.0.0.1:${port}/metrics`);
}

/** Step durations (each activity attempt) and the generation id on every log line of the activity. */
function stepInterceptors(ctx: Context): ActivityInterceptors {
  let generationId: string | undefined;
  return {
    inbound: {
      async execute(input, next) {
        const header = input.headers[GENERATION_ID_HEADER];
        generationId = header ? defaultPayloadConverter.fromPayload<string>(header) : undefined;
        ctx.log.debug(ACTIVITY_STARTED);
        const labels = { activity: ctx.info.activityType, task_queue: ctx.info.taskQueue };
        const end = metrics.stepDuration.startTimer(labels);
        try {
          const result = await next(input);
          end({ outcome: 'completed' });
          return result;
        } catch (err) {
          end({ outcome: err instanceof CancelledFailure ? 'cancelled' : 'failed' });
          throw err;
        }
      },
    },
    outbound: {
      getLogAttributes: (input, next) => next(generationId ? { ...input, generation_id: generationId } : input),
    },
  };
}

const require = createRequire(import.meta.url);

/**
 * The workflow interceptor modules (bundled with the workflows, also by the prebuilt-bundle script): ours (the
 * generation id) always; Temporal's OpenTelemetry ones (spans of the workflow, linked to the client's and
 * activities') only with tracing on. A workflow bundle's modules are evaluated again for every workflow run, so the
 * OpenTelemetry ones would cost each run their evaluation and spans nobody exports.
 */
export function workflowInterceptorModules(tracing: boolean): string[] {
  return [
    fileURLToPath(new URL(`./workflow-interceptors.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url)),
    ...(tracing ? [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')] : []),
  ];
}

/** The prebuilt bundle with the tracing interceptors, beside the one without (`bundle.js` → `bundle.traced.js`). */
export const tracedBundlePath = (bundlePath: string): string => bundlePath.replace(/(\.js)?$/, '.traced.js');

/** Which prebuilt bundle runs: the traced one when tracing is on (without it, workflow spans are missing: said once). */
export function prebuiltBundleFor(bundlePath: string, tracing: Tracing, log: Logger): string {
  if (!tracing.enabled) return bundlePath;
  const traced = tracedBundlePath(bundlePath);
  if (existsSync(traced)) return traced;
  log.warn(`tracing is on but ${traced} does not exist: workflows run without spans (make it with infra/scripts/bundle-workflows.mjs)`);
  return bundlePath;
}

/**
 * Interceptors and sinks of a worker: step metrics, generation ids and OpenTelemetry spans. The span sink of the
 * workflows always exists (a prebuilt bundle may hold the tracing interceptors); with tracing off it drops them.
 */
export function observabilityOptions(tracing: Tracing, opts: { bundledWorkflows: boolean }): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
        stepInterceptors,
      ],
      // A prebuilt bundle holds them already (the worker would warn that it ignores them).
      ...(opts.bundledWorkflows ? {} : { workflowModules: workflowInterceptorModules(tracing.enabled) }),
    },
    sinks: { exporter: makeWorkflowExporter(tracing.processor, tracing.resource) },
  };
}
