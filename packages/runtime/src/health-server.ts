import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { METRICS_CONTENT_TYPE, metricsText } from './metrics.js';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A small HTTP health endpoint for container health checks: GET /health (and /healthz) answers 200 while
 * `check()` says healthy and 503 otherwise, with the check's details as JSON. Port 0 picks a free port.
 * GET /metrics answers the process's Prometheus metrics (with `metrics` text appended: Temporal's own); without
 * `check` the server serves only /metrics (the gateway's metrics port).
 */
export async function serveHealth(opts: {
  host: string;
  port: number;
  check?: () => { healthy: boolean } & Record<string, unknown>;
  metrics?: () => Promise<string>;
}): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      metricsText(opts.metrics).then(
        (text) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' }).end(text),
        () => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"metrics unavailable"}'),
      );
      return;
    }
    const check = opts.check;
    if (!check || req.method !== 'GET' || (path !== '/health' && path !== '/healthz')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const health = check();
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
