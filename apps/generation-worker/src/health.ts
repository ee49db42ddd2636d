import { serveHealth, type HealthServer } from '@gptmarket/runtime';
import type { Worker } from '@temporalio/worker';

export type { HealthServer };

/**
 * Worker health for container checks: healthy only while the Temporal worker is RUNNING and its pollers are
 * still polling (not starting, draining on shutdown or failed), even though the process itself is alive.
 */
export interface WorkerHealth {
  healthy: boolean;
  runState: string;
  workflowPollerState: string;
  activityPollerState: string;
  inFlightActivities: number;
}

/** This worker runs workflows and activities, so both pollers must be polling. */
export function workerHealth(worker: Pick<Worker, 'getStatus'>): WorkerHealth {
  const s = worker.getStatus();
  return {
    healthy: s.runState === 'RUNNING' && s.workflowPollerState === 'POLLING' && s.activityPollerState === 'POLLING',
    runState: s.runState,
    workflowPollerState: s.workflowPollerState,
    activityPollerState: s.activityPollerState,
    inFlightActivities: s.numInFlightActivities,
  };
}

/** Serves GET /health on host:port while the worker runs; port 0 picks a free port (tests). */
export function startHealthServer(worker: Pick<Worker, 'getStatus'>, opts: { host: string; port: number }): Promise<HealthServer> {
  return serveHealth({ ...opts, check: () => ({ ...workerHealth(worker) }) });
}
