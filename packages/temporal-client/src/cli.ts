#!/usr/bin/env node
/**
 * gptmarket-temporal test-connection [--address host:port] [--namespace name] [--task-queue name]
 *
 * Reads TEMPORAL_ADDRESS (or TEMPORAL_HOST), TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, WORKFLOW_SECRET_KEY,
 * TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_NAME and TEMPORAL_API_KEY; flags win.
 * Exits 0 when every check passed, 1 when one failed, 2 on a usage error.
 */
import { parseArgs } from 'node:util';
import { temporalConfigFromEnv, type TemporalConfig } from './server.js';
import { testConnection } from './test-connection.js';

const USAGE = 'usage: gptmarket-temporal test-connection [--address host:port] [--namespace name] [--task-queue name]';

export async function main(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { address: { type: 'string' }, namespace: { type: 'string' }, 'task-queue': { type: 'string' } },
      allowPositionals: true,
    });
  } catch (err) {
    out(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.positionals[0] !== 'test-connection' || parsed.positionals.length > 1) {
    out(USAGE);
    return 2;
  }
  const config: TemporalConfig = temporalConfigFromEnv();
  if (parsed.values.address) config.address = parsed.values.address;
  if (parsed.values.namespace) config.namespace = parsed.values.namespace;
  if (parsed.values['task-queue']) config.taskQueue = parsed.values['task-queue'];
  const tls = config.apiKey ? 'TLS with an API key' : config.tls?.cert ? 'mTLS (client certificate)' : config.tls ? 'TLS' : 'no TLS';
  out(
    `Temporal ${config.address}, namespace ${config.namespace}, task queue ${config.taskQueue}, ${tls}, secret ${config.secretKey ? 'set' : 'not set'}`,
  );
  const results = await testConnection(config);
  for (const r of results) out(`${r.ok ? 'ok  ' : 'FAIL'} ${r.check}: ${r.message}`);
  const ok = results.length === 4 && results.every((r) => r.ok);
  out(ok ? 'All checks passed.' : 'The connection is not usable; fix the first failure above.');
  return ok ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
