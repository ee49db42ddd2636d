import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import {
  explainTemporalConnectError,
  currentTracing,
  integer,
  startTracing,
  stringWithDefault,
  temporalConnectionOptions,
  tracingEnvShape,
  type Logger,
  type TemporalEnv,
} from '@gptmarket/runtime';
import { startHealthServer, type HealthRule } from './health.js';
import { installTemporalRuntime, observabilityOptions } from './observe.js';

/** Variables of a worker process beside Temporal's connection ones (`temporalEnvShape`). */
export const workerProcessEnvShape = (defaultShutdownGraceSeconds: number) => ({
  /** Seconds running activities get after SIGTERM to finish (or heartbeat out) before they are cancelled. */
  WORKER_SHUTDOWN_GRACE_SECONDS: integer(defaultShutdownGraceSeconds, 0, 3600),
  /** Port of the health endpoint (GET /health: 200 while the worker polls, else 503; GET /metrics: Prometheus); 0 turns it off. */
  HEALTH_PORT: integer(0, 0, 65535),
  /** Address the health endpoint listens on (loopback is enough for a container health check). */
  HEALTH_HOST: stringWithDefault('127.0.0.1'),
  ...tracingEnvShape,
});

/** A created Temporal worker and the connection it polls through. */
export interface TemporalWorker {
  worker: Worker;
  connection: NativeConnection;
  /** More workers of the process on other task queues, sharing the connection (run and stopped with `worker`). */
  companions?: Worker[];
}

/**
 * Connects to Temporal (unless a connection is given: tests share one) and creates a worker in the env's namespace.
 */
export async function createWorker(
  env: TemporalEnv,
  options: Omit<WorkerOptions, 'connection' | 'namespace'>,
  connection?: NativeConnection,
): Promise<TemporalWorker> {
  const conn = connection ?? (await connectNative(env));
  const observe = observabilityOptions(currentTracing(), { bundledWorkflows: Boolean(options.workflowBundle) });
  const worker = await Worker.create({
    connection: conn,
    namespace: env.TEMPORAL_NAMESPACE,
    ...options,
    interceptors: {
      ...options.interceptors,
      activity: [...(observe.interceptors?.activity ?? []), ...(options.interceptors?.activity ?? [])],
      workflowModules: [...(observe.interceptors?.workflowModules ?? []), ...(options.interceptors?.workflowModules ?? [])],
    },
    sinks: { ...options.sinks, ...observe.sinks },
  });
  return { worker, connection: conn };
}

/** A worker's connection to Temporal (mTLS or an API key when the env sets them); a refusal in plain words. */
async function connectNative(env: TemporalEnv): Promise<NativeConnection> {
  const options = temporalConnectionOptions(env);
  try {
    return await NativeConnection.connect(options);
  } catch (err) {
    throw new Error(explainTemporalConnectError(err, options), { cause: err });
  }
}

/**
 * Shutdown grace, heartbeat cadence and sticky-queue timeout of the activity workers (generation and media): what
 * decides how soon work of a killed worker moves on (apps/generation-worker/src/workflows/options.ts has the
 * per-activity heartbeat timeouts these serve).
 */
export const drainOptions = (env: { WORKER_SHUTDOWN_GRACE_SECONDS: number }) =>
  ({
    shutdownGraceTime: `${env.WORKER_SHUTDOWN_GRACE_SECONDS}s`,
    // Heartbeats reach the server within 1 s, so a cancel reaches a running activity that fast, and a 5 s heartbeat
    // timeout notices a dead worker after about five missed beats.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
    // A workflow task for a workflow cached on a worker waits this long on that worker's sticky queue before any
    // worker may take it (replaying the history). The default, 10 s, is what a killed worker costs each of its
    // workflows on their next step; a live worker takes its sticky tasks in milliseconds.
    stickyQueueScheduleToStartTimeout: '2s',
  }) satisfies Partial<WorkerOptions>;

/** A worker that runs: `running` settles once it stopped; `stop()` drains it and closes its connection. */
export interface RunningWorker extends TemporalWorker {
  running: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs a created worker. SIGINT/SIGTERM already shut every worker of the process down (the Temporal runtime's
 * signal handling); `stop()` is for a process that ends the worker itself, and tolerates a shutdown already begun.
 */
export function startWorker({ worker, connection, companions = [] }: TemporalWorker): RunningWorker {
  const all = [worker, ...companions];
  const running = Promise.all(all.map((w) => w.run())).then(() => {});
  return {
    worker,
    connection,
    companions,
    running,
    async stop() {
      for (const w of all) if (w.getState() === 'RUNNING') w.shutdown();
      await running.catch(() => {});
      await connection.close();
    },
  };
}

/**
 * The whole life of a worker process: install tracing (when OTEL_EXPORTER_OTLP_ENDPOINT is set) and the Temporal
 * runtime (logs as our JSON lines, the SDK's metrics), create the worker, run it, serve its health endpoint with
 * `/metrics` (when a port is set), log `<name> ready`; on SIGINT/SIGTERM the worker drains (running activities get the grace time), then the
 * endpoint and the connection close and `<name> stopped` is logged. Any failure logs `<name> failed` and exits 1.
 */
export async function runWorker(opts: {
  name: string;
  log: Logger;
  create: () => Promise<TemporalWorker>;
  health: { host: string; port: number; rule: HealthRule };
  /** Fields of the ready line (the task queue). */
  ready: Record<string, unknown>;
  /** The tracing variables of the process's env. */
  env: { OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined };
}): Promise<void> {
  const { name, log } = opts;
  try {
    const tracing = startTracing(name, opts.env);
    const temporalMetrics = await installTemporalRuntime(log, name);
    const { worker, connection, running } = startWorker(await opts.create());
    const health = opts.health.port ? await startHealthServer(worker, { ...opts.health, metrics: temporalMetrics }) : undefined;
    log.info(`${name} ready`, { ...opts.ready, healthPort: health?.port });
    try {
      await running;
    } finally {
      await health?.close();
    }
    await connection.close();
    await tracing.flush();
    log.info(`${name} stopped`);
  } catch (err) {
    log.error(`${name} failed`, { error: (err as Error).message });
    process.exit(1);
  }
}
