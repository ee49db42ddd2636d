/**
 * In-process workers on a real Temporal dev server (testkit): one generation worker (our workflows bundle and
 * activities) and one media worker (real FFmpeg), both on LocalStorage in a temp dir unless a storage is given.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { WorkflowClient } from '@temporalio/client';
import { GENERATION_QUEUE, MEDIA_QUEUE, QUERY_GET_CURRENT_STEP, QUERY_GET_STATUS, type StepProgress } from '@gptmarket/contracts';
import type { OutboundPolicy } from '@gptmarket/runtime';
import { LocalStorage, type Storage } from '@gptmarket/storage';
import { createMediaActivities } from '@gptmarket/media-worker';
import { startTemporal } from '@gptmarket/testkit';
import { createGenerationActivities, type GenerationActivityDeps } from '../src/activities/index.js';
import { workflowsPath } from '../src/worker.js';
import { workflowBundlerOptions } from '../src/workflow-bundler.js';

export type Temporal = Awaited<ReturnType<typeof startTemporal>>;

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflows bundle, built once per test file. */
export const workflowBundle = () => (bundle ??= bundleWorkflowCode({ workflowsPath, ...workflowBundlerOptions(), logger: quietLogger }));

const noop = () => {};
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

export interface Harness {
  temporal: Temporal;
  client: WorkflowClient;
  storage: Storage;
  /** The LocalStorage directory (unused when another storage was given). */
  storageDir: string;
  /** Workers running now (stopped by `stop`). */
  running: Promise<void>[];
  workers: Worker[];
  /**
   * Starts a generation worker on `taskQueue` with these deps (merged over the defaults). `delayMs` holds each
   * (real) activity back that long before it runs, so a test polling `get_current_step` sees every step.
   * `noCache` keeps no workflow in the worker's cache: every activation and every query replays the history.
   */
  addGenerationWorker(
    taskQueue: string,
    deps?: Partial<GenerationActivityDeps>,
    delayMs?: number,
    opts?: { noCache?: boolean },
  ): Promise<void>;
  stop(): Promise<void>;
}

export const PUBLIC_BASE = 'http://media.test.invalid/media';

export async function startHarness(
  opts: { mediaPolicy?: OutboundPolicy; generation?: Partial<GenerationActivityDeps>; storage?: Storage } = {},
): Promise<Harness> {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed in this process.
  }
  const temporal = await startTemporal();
  const storageDir = mkdtempSync(join(tmpdir(), 'gptmarket-genworker-test-'));
  const storage = opts.storage ?? new LocalStorage({ dir: storageDir, publicBaseUrl: PUBLIC_BASE });
  const workers: Worker[] = [];
  const running: Promise<void>[] = [];
  const h: Harness = {
    temporal,
    client: temporal.client.workflow,
    storage,
    storageDir,
    running,
    workers,
    async addGenerationWorker(taskQueue, deps = {}, delayMs = 0, opts = {}) {
      const activities = createGenerationActivities({ storage, secrets: { enabled: false, secrets: [] }, ...deps });
      const worker = await Worker.create({
        connection: temporal.nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: delayMs > 0 ? delayed(activities, delayMs) : activities,
        ...(opts.noCache ? { maxCachedWorkflows: 0 } : {}),
      });
      workers.push(worker);
      running.push(worker.run());
    },
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await temporal.teardown();
      rmSync(storageDir, { recursive: true, force: true });
    },
  };
  const media = await Worker.create({
    connection: temporal.nativeConnection,
    taskQueue: MEDIA_QUEUE,
    activities: createMediaActivities({ storage, policy: opts.mediaPolicy ?? {}, maxInputBytes: 200 * 1024 * 1024 }),
  });
  workers.push(media);
  running.push(media.run());
  await h.addGenerationWorker(GENERATION_QUEUE, opts.generation);
  await h.addGenerationWorker(OBSERVED_QUEUE, opts.generation, 300);
  return h;
}

/** The same activities, each started `ms` later (the auth local activity excepted). */
function delayed<T extends object>(activities: T, ms: number): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities) as [string, (...a: unknown[]) => Promise<unknown>][]) {
    out[name] =
      name === 'verifyWorkflowAuth'
        ? fn
        : async (...args: unknown[]) => {
            await new Promise((r) => setTimeout(r, ms));
            return fn(...args);
          };
  }
  return out as T;
}

export const OBSERVED_QUEUE = 'observed-generation-queue';

export interface RunResult<T> {
  result?: T;
  error?: unknown;
  /** Every distinct current step seen by polling `get_current_step`, in order. */
  steps: StepProgress[];
  statuses: string[];
  /** Queries that failed while the workflow ran (other than because it had just closed). */
  queryFailures: string[];
  workflowId: string;
}

/** Starts a workflow and polls its queries until it ends. */
export async function runWorkflow<T>(
  h: Harness,
  workflowType: string,
  input: unknown,
  opts: { taskQueue?: string; timeoutMs?: number } = {},
): Promise<RunResult<T>> {
  const workflowId = `test-${workflowType}-${randomUUID()}`;
  const handle = await h.client.start(workflowType, { taskQueue: opts.taskQueue ?? GENERATION_QUEUE, workflowId, args: [input] });
  const steps: StepProgress[] = [];
  const statuses: string[] = [];
  const queryFailures: string[] = [];
  let done = false;
  const outcome = handle
    .result()
    .then(
      (result) => ({ result: result as T }),
      (error: unknown) => ({ error }),
    )
    .finally(() => {
      done = true;
    });
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  while (!done && Date.now() < deadline) {
    try {
      // One query at a time: concurrent queries of one workflow can wait for its next workflow task.
      const step = await handle.query<StepProgress | null>(QUERY_GET_CURRENT_STEP);
      const status = await handle.query<string>(QUERY_GET_STATUS);
      const last = steps[steps.length - 1];
      if (step && (!last || last.step_id !== step.step_id || last.status !== step.status)) steps.push(step);
      if (statuses[statuses.length - 1] !== status) statuses.push(status);
    } catch (err) {
      // The workflow may close between the check and the query; anything else is kept for the test to see.
      const message = (err as Error).message;
      if (!done && !/workflow execution already completed|not found/i.test(message)) queryFailures.push(message);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const out = await Promise.race([
    outcome,
    new Promise<never>((_, rej) =>
      setTimeout(() => rej(new Error(`${workflowType} did not finish in time`)), Math.max(1, deadline - Date.now())),
    ),
  ]);
  // The final state (completed or failed) as the query reports it after the end.
  try {
    const final = await handle.query<StepProgress | null>(QUERY_GET_CURRENT_STEP);
    const last = steps[steps.length - 1];
    if (final && (!last || last.step_id !== final.step_id || last.status !== final.status)) steps.push(final);
    const status = await handle.query<string>(QUERY_GET_STATUS);
    if (statuses[statuses.length - 1] !== status) statuses.push(status);
  } catch {
    // ignore
  }
  return { ...out, steps, statuses, queryFailures, workflowId };
}

/** Reads a stored object (by its public URL) back from the LocalStorage directory. */
export function readStored(h: Harness, url: string): Buffer {
  const key = h.storage.keyFromUrl(url);
  if (!key) throw new Error(`not in our storage: ${url}`);
  return readFileSync(join(h.storageDir, key));
}
export function storedPath(h: Harness, url: string): string {
  const key = h.storage.keyFromUrl(url);
  if (!key) throw new Error(`not in our storage: ${url}`);
  return join(h.storageDir, key);
}

export interface Probe {
  format: { duration?: string; format_name?: string };
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; duration?: string; sample_rate?: string }[];
}
export function ffprobe(path: string): Probe {
  return JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path], { encoding: 'utf8' }),
  ) as Probe;
}

/** Decodes the first audio stream of a file to mono 16 kHz signed 16-bit samples. */
export function decodeAudio(path: string): Int16Array {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-map', '0:a:0', '-ac', '1', '-ar', '16000', '-f', 's16le', 'pipe:1'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return new Int16Array(raw.buffer, raw.byteOffset, Math.floor(raw.length / 2));
}

/** Best normalised cross-correlation of `b` against `a` over lags up to ±maxLag samples, on the first `n` samples. */
export function bestCorrelation(a: Int16Array, b: Int16Array, n: number, maxLag: number): number {
  let best = -1;
  for (let lag = -maxLag; lag <= maxLag; lag += 4) {
    let sab = 0;
    let saa = 0;
    let sbb = 0;
    for (let i = maxLag; i < n - maxLag; i++) {
      const x = a[i] ?? 0;
      const y = b[i + lag] ?? 0;
      sab += x * y;
      saa += x * x;
      sbb += y * y;
    }
    if (saa > 0 && sbb > 0) best = Math.max(best, sab / Math.sqrt(saa * sbb));
  }
  return best;
}
