/**
 * End-to-end orchestration benchmark (not a test): Ruby runs on the real workers (the generation worker as
 * `createGenerationWorker` builds it, its Replicate queue included, and the media worker with real FFmpeg) against a
 * real Temporal dev server and zero-latency provider fakes on loopback (the repo's Replicate and OpenAI fakes).
 * Overhead of a run = start → result, minus the media activity's own run (ActivityTaskStarted → Completed in the
 * history: download, FFmpeg, upload). Printed for runs one at a time and for 20 at once, next to the target.
 * Run with `bash bench/e2e/e2e.sh`; see bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
// npm packages resolve from the generation worker (bench/ is a plain folder, not a workspace package).
const req = createRequire(join(root, 'apps/generation-worker/package.json'));
const { DefaultLogger, Runtime } = (await import(req.resolve('@temporalio/worker'))) as typeof import('@temporalio/worker');
const { RUBY_WORKFLOW } = await import('../../packages/contracts/src/index.js');
const { startTemporal } = await import('../../packages/testkit/src/index.js');
const { startWorker } = await import('../../packages/worker-runtime/src/index.js');
const { createGenerationWorker, loadGenerationWorkerEnv } = await import('../../apps/generation-worker/src/index.js');
const { createMediaWorker, loadMediaWorkerEnv } = await import('../../apps/media-worker/src/index.js');
const { FAKE_REPLICATE_KEY, startFakeReplicate } = await import('../../packages/providers/test/fakes/replicate.js');
const { startFakeOpenAi } = await import('../../packages/providers/test/fakes/llm.js');

const TARGET_MS = 300;
const SEQUENTIAL = Number(process.env.BENCH_RUNS ?? 5);
const CONCURRENT = 20;

Runtime.install({ logger: new DefaultLogger('WARN') });
const work = mkdtempSync(join(tmpdir(), 'gptmarket-bench-e2e-'));
const [temporal, replicate, openai] = await Promise.all([startTemporal(), startFakeReplicate({ pollsToFinish: 1 }), startFakeOpenAi()]);
// Zero latency: every prediction is done at its first look, every LLM answer is immediate.
openai.fallback = (req) => {
  const user = (req.json as { messages: Array<{ role: string; content: string }> }).messages.find((m) => m.role === 'user')!.content;
  return {
    content: JSON.stringify(
      user.includes('final_prompt')
        ? { movements: ['Eyes widen'], final_prompt: 'Eyes widen. No speech, mouth closed.' }
        : { subject: { type: 'candid selfie' } },
    ),
  };
};

const common = {
  TEMPORAL_ADDRESS: temporal.address,
  LOCAL_STORAGE_DIR: join(work, 'media'),
  GATEWAY_PUBLIC_URL: 'http://127.0.0.1:1',
  LOG_LEVEL: 'warn',
};
const genEnv = loadGenerationWorkerEnv({
  ...common,
  WORKFLOW_SECRET_ENABLED: 'false',
  REPLICATE_API_KEY: FAKE_REPLICATE_KEY,
  REPLICATE_BASE_URL: replicate.baseUrl,
  OPENAI_API_KEY: 'sk-test-openai-key-123456',
  OPENAI_BASE_URL: openai.baseUrl,
  PROVIDER_DOWNLOAD_ALLOWED_HOSTS: `127.0.0.1:${replicate.port}`,
  ...(process.env.REPLICATE_POLL_MS ? { REPLICATE_POLL_MS: process.env.REPLICATE_POLL_MS } : {}),
});
// Renders and provider calls never wait for a slot here: the bench measures orchestration, not render capacity or
// the provider gates (Replicate's default is 4 predictions at once per process, OpenAI's 8).
for (const provider of ['REPLICATE', 'OPENAI']) process.env[`PROVIDER_CONCURRENCY_${provider}`] ??= String(CONCURRENT);
const mediaEnv = loadMediaWorkerEnv({ ...common, MEDIA_MAX_CONCURRENT_RENDERS: String(CONCURRENT) });
const workers = [
  startWorker(await createGenerationWorker(genEnv, temporal.nativeConnection)),
  startWorker(await createMediaWorker(mediaEnv, temporal.nativeConnection)),
];

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

interface Run {
  totalMs: number;
  mediaMs: number;
  overheadMs: number;
  /** Per activity type: time waiting in its queue (scheduled → started) and running (started → completed). */
  activities: Map<string, { waitMs: number; runMs: number }>;
}

let n = 0;
async function ruby(): Promise<Run> {
  const workflowId = `bench-e2e-${process.pid}-${++n}`;
  const t0 = performance.now();
  const handle = await temporal.client.workflow.start(RUBY_WORKFLOW, {
    taskQueue: genEnv.TEMPORAL_TASK_QUEUE,
    workflowId,
    args: [{ emotion: 'shocked', text_overlay: 'it works' }],
  });
  await handle.result();
  const totalMs = performance.now() - t0;
  const events = (await handle.fetchHistory()).events ?? [];
  const started = new Map<string, number>();
  const activities = new Map<string, { waitMs: number; runMs: number }>();
  let mediaMs = 0;
  for (const e of events) {
    const s = e.activityTaskStartedEventAttributes;
    if (s) started.set(String(s.scheduledEventId), ms(e.eventTime));
    const c = e.activityTaskCompletedEventAttributes;
    if (c) {
      const scheduled = events.find((x) => String(x.eventId) === String(c.scheduledEventId))!;
      const name = scheduled.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
      const start = started.get(String(c.scheduledEventId))!;
      const a = activities.get(name) ?? { waitMs: 0, runMs: 0 };
      a.waitMs += start - ms(scheduled.eventTime);
      a.runMs += ms(e.eventTime) - start;
      activities.set(name, a);
      if (name === 'renderVideo') mediaMs += ms(e.eventTime) - start;
    }
  }
  return { totalMs, mediaMs, overheadMs: totalMs - mediaMs, activities };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const f = (x: number) => `${Math.round(x)} ms`;
const verdict = (x: number) => (x <= TARGET_MS ? 'meets' : 'MISSES');

try {
  await ruby(); // warm-up: bundles, connections, first FFmpeg
  const one: Run[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) one.push(await ruby());
  const many = await Promise.all(Array.from({ length: CONCURRENT }, ruby));
  const load = execFileSync('uptime', { encoding: 'utf8' }).trim();
  const median = (rs: Run[], k: keyof Run) =>
    pct(
      rs.map((r) => r[k]),
      50,
    );
  console.log(`\nRuby run end to end on zero-latency fakes (poll ${genEnv.REPLICATE_POLL_MS} ms); ${load}`);
  console.log(
    `one at a time (${SEQUENTIAL} runs): total ${f(median(one, 'totalMs'))}, media activity ${f(median(one, 'mediaMs'))}, ` +
      `overhead median ${f(median(one, 'overheadMs'))}  (target ≤ ${TARGET_MS} ms: ${verdict(median(one, 'overheadMs'))})`,
  );
  // Where the time went, per activity type: median queue wait (scheduled → started) / median run (started → completed).
  const breakdown = (rs: Run[]) =>
    [...rs[0]!.activities.keys()]
      .map(
        (k) =>
          `${k} ${f(
            pct(
              rs.map((r) => r.activities.get(k)?.waitMs ?? 0),
              50,
            ),
          )} / ${f(
            pct(
              rs.map((r) => r.activities.get(k)?.runMs ?? 0),
              50,
            ),
          )}`,
      )
      .join(', ');
  console.log(`  activity queue wait / run, medians: ${breakdown(one)}`);
  const p95 = pct(
    many.map((r) => r.overheadMs),
    95,
  );
  console.log(
    `${CONCURRENT} at once: total median ${f(median(many, 'totalMs'))}, media activity median ${f(median(many, 'mediaMs'))}, ` +
      `overhead median ${f(median(many, 'overheadMs'))}, p95 ${f(p95)}  (target ≤ ${TARGET_MS} ms: ${verdict(p95)})`,
  );
  console.log(`  activity queue wait / run, medians: ${breakdown(many)}`);
  console.log(
    `overhead / target: one at a time ${(median(one, 'overheadMs') / TARGET_MS).toFixed(2)}, p95 of ${CONCURRENT} at once ${(p95 / TARGET_MS).toFixed(2)}`,
  );
} finally {
  // The workers share the test environment's connection, which its teardown closes.
  for (const w of workers) for (const x of [w.worker, ...(w.companions ?? [])]) if (x.getState() === 'RUNNING') x.shutdown();
  await Promise.allSettled(workers.map((w) => w.running));
  await Promise.all([replicate.close(), openai.close()]);
  await temporal.teardown();
  rmSync(work, { recursive: true, force: true });
}
