import type { Worker } from '@temporalio/worker';
import { serveHealth, type HealthServer } from '@gptmarket/runtime';

export type { HealthServer };

/**
 * Worker health for container checks: healthy only while the Temporal worker is RUNNING and the pollers it needs
 * are still polling (not starting, draining on shutdown or failed), even though the process itself is alive.
 */
export interface WorkerHealth {
  healthy: boolean;
  runState: string;
  workflowPollerState: string;
  activityPollerState: string;
  inFlightActivities: number;
}

export type HealthRule = (worker: Pick<Worker, 'getStatus'>) => WorkerHealth;

/**
 * The health rule of a worker: the activity poller must poll; the workflow poller too when the worker runs
 * workflows (a worker that registers none never polls for workflow tasks).
 */
export function workerHealthRule(opts: { workflows: boolean }): HealthRule {
  return (worker) => {
    const s = worker.getStatus();
    return {
      healthy: s.runState === 'RUNNING' && s.activityPollerState === 'POLLING' && (!opts.workflows || s.workflowPollerState === 'POLLING'),
      runState: s.runState,
      workflowPollerState: s.workflowPollerState,
      activityPollerState: s.activityPollerState,
      inFlightActivities: s.numInFlightActivities,
    };
  };
}

/**
 * Serves GET /health on host:port by the worker's rule, and GET /metrics (ours, then `metrics`: Temporal's); port 0
 * picks a free port (tests).
 */
export function startHealthServer(
  worker: Pick<Worker, 'getStatus'>,
  opts: { host: string; port: number; rule: HealthRule; metrics?: () => Promise<string> },
): Promise<HealthServer> {
  return serveHealth({
    host: opts.host,
    port: opts.port,
    check: () => ({ ...opts.rule(worker) }),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
}
