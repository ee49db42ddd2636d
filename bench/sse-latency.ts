/**
 * Benchmark (not a test): how long after a POST does the `completed` SSE event arrive? HelloWorld through two
 * gateways on their own databases of one PostgreSQL, against one Temporal dev server and one generation worker:
 *   - push: the gateway as configured by default (a long poll of each workflow's history);
 *   - poll: the same gateway with TRACKER_MAX_WATCHES=0 and TRACKER_INTERVAL_MS=500, i.e. observation on a
 *     500 ms tick as before push;
 *   - direct: a Temporal client's start → result for the same workflow (the floor).
 * Interleaved rounds, so background load falls on all three alike; prints medians, p90s, the ratios and the
 * machine's load. Run: bench/sse-latency.sh (ROUNDS=20 by default).
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HELLO_WORLD_WORKFLOW } from '../packages/contracts/src/index.js';
import { workflowToken } from '../packages/runtime/src/index.js';
import { freePort, spawnApp, startPostgres, startTemporal, type ServiceProcess } from '../packages/testkit/src/index.js';

const ROUNDS = Number(process.env.ROUNDS ?? 20);
interface Sample {
  total: number;
  lag: number;
}
const [temporal, pg] = await Promise.all([startTemporal(), startPostgres()]);
const mediaDir = mkdtempSync(join(tmpdir(), 'gptmarket-bench-sse-'));
const secret = randomBytes(24).toString('hex');
const base: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  NODE_ENV: 'test',
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
  TEMPORAL_ADDRESS: temporal.address,
  WORKFLOW_SECRET_KEY: secret,
  LOCAL_STORAGE_DIR: mediaDir,
  RATE_LIMIT_ENABLED: 'false',
};
const procs: ServiceProcess[] = [];
const gateway = async (name: string, extra: Record<string, string>) => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const db = await pg.createDatabase(`bench_${name}`);
  const proc = spawnApp(
    'gateway',
    { ...base, ...extra, LOG_LEVEL: 'info', DATABASE_URL: db, PORT: String(port), GATEWAY_PUBLIC_URL: url },
    name,
  );
  procs.push(proc);
  await proc.waitForOutput(/gateway ready/, 60_000);
  return url;
};
try {
  const worker = spawnApp('generation-worker', { ...base, LOG_LEVEL: 'info' });
  procs.push(worker);
  const [push, poll] = await Promise.all([
    gateway('push', {}),
    gateway('poll', { TRACKER_MAX_WATCHES: '0', TRACKER_INTERVAL_MS: '500' }),
    worker.waitForOutput(/generation-worker ready/, 120_000),
  ]);

  /** ms from the workflow's close (Temporal's close time) to `at` (wall clock, same machine). */
  const sinceClose = async (workflowId: string, at: number) =>
    at - (await temporal.client.workflow.getHandle(workflowId).describe()).closeTime!.getTime();
  /** POST, then the SSE stream until its final event: ms from the POST to that event, and from the close to it. */
  const viaGateway = async (url: string): Promise<Sample> => {
    const t0 = performance.now();
    const res = await fetch(`${url}/v1/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'hello_world', input: { name: 'bench' } }),
    });
    const { id, workflow_id } = (await res.json()) as { id: string; workflow_id: string };
    const stream = await fetch(`${url}/v1/generations/${id}/events`);
    const text = await stream.text(); // the stream ends right after its final event
    const at = Date.now();
    const total = performance.now() - t0;
    if (!/event: completed/.test(text)) throw new Error(`no completed event: ${text.slice(0, 300)}`);
    return { total, lag: await sinceClose(workflow_id, at) };
  };
  const direct = async (): Promise<Sample> => {
    const t0 = performance.now();
    const workflowId = `bench-${randomBytes(6).toString('hex')}`;
    await temporal.client.workflow.execute(HELLO_WORLD_WORKFLOW, {
      taskQueue: 'generation-queue',
      workflowId,
      args: [{ name: 'bench', secret_key: workflowToken(secret, workflowId) }],
    });
    const at = Date.now();
    return { total: performance.now() - t0, lag: await sinceClose(workflowId, at) };
  };
  const cases = { direct, push: () => viaGateway(push), poll: () => viaGateway(poll) };
  const samples: Record<keyof typeof cases, Sample[]> = { direct: [], push: [], poll: [] };
  for (const once of Object.values(cases)) for (let i = 0; i < 3; i++) await once(); // warm up
  for (let i = 0; i < ROUNDS; i++) for (const [name, once] of Object.entries(cases)) samples[name as keyof typeof cases].push(await once());
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
  const f = (x: number) => x.toFixed(0).padStart(6);
  console.log(`HelloWorld, ${ROUNDS} interleaved rounds (ms): start → final result, and workflow close → final result`);
  for (const [name, xs] of Object.entries(samples)) {
    const total = xs.map((x) => x.total);
    const lag = xs.map((x) => x.lag);
    console.log(
      `  ${name.padEnd(7)} total median ${f(q(total, 0.5))} p90 ${f(q(total, 0.9))}   after close median ${f(q(lag, 0.5))} p90 ${f(q(lag, 0.9))}`,
    );
  }
  const m = (name: keyof typeof cases, k: keyof Sample) =>
    q(
      samples[name].map((x) => x[k]),
      0.5,
    );
  console.log(
    `  added by the gateway (median total − direct): push ${f(m('push', 'total') - m('direct', 'total'))}, poll ${f(m('poll', 'total') - m('direct', 'total'))}`,
  );
  console.log(
    `  ratios of median totals: push / direct ${(m('push', 'total') / m('direct', 'total')).toFixed(2)}, poll / push ${(m('poll', 'total') / m('push', 'total')).toFixed(2)}`,
  );
  console.log(`  ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
} finally {
  await Promise.all(procs.map((p) => p.stop()));
  await temporal.teardown();
  await pg.stop();
  rmSync(mediaDir, { recursive: true, force: true });
}
