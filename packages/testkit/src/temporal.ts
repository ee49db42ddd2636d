import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePort } from './ports.js';

/** The pinned Temporal CLI that scripts/setup.sh installs (or TEMPORAL_CLI_PATH). */
export function temporalCliPath(): string {
  const path =
    process.env.TEMPORAL_CLI_PATH ??
    join(
      process.env.GPTMARKET_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'gptmarket', 'tools'),
      'temporal-1.5.1',
      'temporal',
    );
  if (!existsSync(path)) throw new Error(`Temporal CLI not found at ${path}: run scripts/setup.sh first`);
  return path;
}

/**
 * Starts a real Temporal dev server (the pinned CLI, given as an existing path: its default download
 * cannot work offline) and returns the test environment; `env.connection` and `env.nativeConnection`
 * point at it; `metricsUrl` serves the server's Prometheus metrics (e.g. `service_requests` by operation, to count
 * the queries a test caused). Call `env.teardown()` to stop it.
 */
export async function startTemporal(): Promise<TestWorkflowEnvironment & { address: string; metricsUrl: string }> {
  const metricsPort = await freePort();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      ip: '127.0.0.1',
      extraArgs: ['--log-level', 'error', '--metrics-port', String(metricsPort)],
    },
  });
  const address = (env as unknown as { address?: string }).address ?? env.connection.options.address;
  return Object.assign(env, { address, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` });
}
