import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from '@temporalio/worker';

/**
 * A small HTTP health endpoint for container health checks: 200 only while the Temporal worker is RUNNING and
 * its pollers are still polling, 503 otherwise (starting, draining on shutdown, failed). It reads the worker's
 * own status, so it fails when the worker stops serving even though the process is still alive.
 */
export interface WorkerHealth {
  healthy: boolean;
  runState: string;
  workflowPollerState: string;
  activityPollerState: string;
  inFlightActivities: number;
}

/** This worker runs activities only (no workflows are registered), so only the activity poller must be polling. */
export function workerHealth(worker: Pick<Worker, 'getStatus'>): WorkerHealth {
  const s = worker.getStatus();
  return {
    healthy: s.runState === 'RUNNING' && s.activityPollerState === 'POLLING',
    runState: s.runState,
    workflowPollerState: s.workflowPollerState,
    activityPollerState: s.activityPollerState,
    inFlightActivities: s.numInFlightActivities,
  };
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves GET /health (and /healthz) on host:port; port 0 picks a free port (tests). */
export async function startHealthServer(worker: Pick<Worker, 'getStatus'>, opts: { host: string; port: number }): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/health' && path !== '/healthz')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const health = workerHealth(worker);
    res.writeHead(health.healthy ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ status: health.healthy ? 'ok' : 'unavailable', ...health }));
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
