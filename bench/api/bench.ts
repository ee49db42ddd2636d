/**
 * API benchmark (not a test), one run: against a real Temporal dev server with a generation worker, once with the
 * gateway on PGlite and once on PostgreSQL,
 *   - starts/s of HelloWorld through `POST /v1/generations` ÷ a direct `@temporalio/client` (same concurrency), and
 *     of a bare Fastify route that only starts the workflow (what the HTTP hop alone reaches);
 *   - req/s of `GET /v1/generations/:id` (a completed generation) and `GET /v1/generations?limit=20` ÷ a bare
 *     Fastify route serving the same JSON (autocannon, same connections);
 *   - when a HelloWorld's `completed` SSE event arrives after the POST, against a direct client's start → result.
 * Rounds are interleaved so background load falls on both sides alike. Run with `bash bench/api/run.sh`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadAverage, median } from '../stats.js';

const root = resolve(import.meta.dirname, '../..');
// Packages resolve from the gateway (bench/ is a plain folder, not a workspace package).
const req = createRequire(join(root, 'apps/gateway/package.json'));
const { default: autocannon } = (await import(req.resolve('autocannon'))) as { default: any };
const { Connection, Client } = (await import(req.resolve('@temporalio/client'))) as typeof import('@temporalio/client');
const { freePort, spawnService, startPostgres, startTemporal } = await import('../../packages/testkit/src/index.js');
const { workflowToken } = await import('../../packages/runtime/src/index.js');
const { cpuPerOp, cpuSample, formatCpu } = await import('./cpu.js');

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const READ_SECONDS = Number(process.env.BENCH_READ_SECONDS ?? 4);
const STARTS = Number(process.env.BENCH_STARTS ?? 300);
const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 9);
/** Diagnostics: measure only some parts (`reads,latency,starts`) or some databases (`pglite,postgres`). */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'reads,latency,starts').split(','));
const DATABASES = (process.env.BENCH_DBS ?? 'pglite,postgres').split(',') as Array<'pglite' | 'postgres'>;
const TARGET_READS = 0.5;
const TARGET_STARTS = 0.9;
const TASK_QUEUE = 'generation-queue';

const fmt = (n: number, digits = 0) => n.toFixed(digits);
const verdict = (ratio: number, target: number) => `${ratio.toFixed(2)} (target ≥ ${target}: ${ratio >= target ? 'met' : 'NOT met'})`;
const tsxNode = (entry: string) => ['--import', 'tsx', '--conditions=@gptmarket/source', entry];
/** Diagnostics: CPU profiles of the gateway, the worker and the bare routes (`--cpu-prof`) into BENCH_PROFILE_DIR. */
const profileArgs = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const progress = (what: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${what}\n`);

/** The processes that serve reads, for their CPU time per request (the bench's own process runs autocannon). */
const readCpuLabels = () => ({
  gateway: { match: /apps\/gateway\/src\/main\.ts/ },
  bare: { match: /bench\/api\/bare\.ts/ },
  bench: { match: /bench\/api\/bench\.ts/ },
});

/**
 * autocannon for a fixed time: req/s of 2xx answers (any other answer fails the bench), and into `cpu` (when given)
 * the CPU microseconds per request of the serving processes, which vary less from run to run than req/s.
 */
async function loadFor(url: string, seconds: number, headers: Record<string, string>, cpu?: Map<string, number[]>): Promise<number> {
  const before = cpuSample(readCpuLabels());
  const t = performance.now();
  const r = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers });
  if (r.non2xx || r.errors) throw new Error(`${url}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
  for (const [label, ms] of Object.entries(cpuPerOp(before, cpuSample(readCpuLabels()), r.requests.total))) {
    if (ms > 0.0005) cpu?.set(label, [...(cpu.get(label) ?? []), ms * 1000]);
  }
  // Wall-clock time, as on the direct side (autocannon's own duration is whole seconds).
  return r.requests.total / ((performance.now() - t) / 1000);
}

const work = mkdtempSync(join(tmpdir(), 'gptmarket-bench-api-'));
const secret = 'bench-secret-0123456789abcdef';
const [temporal, pg] = await Promise.all([startTemporal(), startPostgres()]);
const services: Array<{ stop(): Promise<unknown> }> = [];
const baseEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  NODE_ENV: 'test',
  LOG_LEVEL: 'info',
  TEMPORAL_ADDRESS: temporal.address,
  WORKFLOW_SECRET_KEY: secret,
  LOCAL_STORAGE_DIR: join(work, 'media'),
};

try {
  console.log(
    `GPTMarket API bench — ${new Date().toISOString()}, ${cpus().length} cores, load average ${loadAverage()}; ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds`,
  );
  const worker = spawnService(
    'generation-worker',
    process.execPath,
    [...profileArgs, ...tsxNode(join(root, 'apps/generation-worker/src/main.ts'))],
    baseEnv,
    root,
  );
  services.push(worker);
  await worker.waitForOutput(/generation-worker ready/, 120_000);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: 'default' });
  let directSeq = 0;
  const directStart = async () => {
    const workflowId = `bench-direct-${process.pid}-${directSeq++}`;
    return client.workflow.start('HelloWorldWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [{ name: 'bench', secret_key: workflowToken(secret, workflowId) }],
    });
  };
  /** Waits until the worker has run every workflow started so far (so one phase's backlog does not load the next). */
  const drain = async () => {
    for (let i = 0; i < 600; i++) {
      const { count } = await client.workflow.count('ExecutionStatus="Running"');
      if (count === 0) return;
      await sleep(500);
    }
  };

  const barePort = await freePort();
  for (const db of DATABASES) {
    await drain();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const gateway = spawnService(
      `gateway-${db}`,
      process.execPath,
      [...profileArgs, ...tsxNode(join(root, 'apps/gateway/src/main.ts'))],
      {
        ...baseEnv,
        HOST: '127.0.0.1',
        PORT: String(port),
        GATEWAY_PUBLIC_URL: base,
        RATE_LIMIT_ENABLED: 'false',
        // Diagnostics: more gateway settings, `NAME=value,NAME=value`.
        ...Object.fromEntries(
          (process.env.BENCH_GATEWAY_ENV ?? '')
            .split(',')
            .filter(Boolean)
            .map((kv) => kv.split('=')),
        ),
        ...(db === 'postgres' ? { DATABASE_URL: await pg.createDatabase('bench_api') } : { GPTMARKET_DATA_DIR: join(work, 'data') }),
      },
      root,
    );
    services.push(gateway);
    await gateway.waitForOutput(/gateway ready/, 180_000);
    // Every request is made as clients make them: with an API key (made on the open gateway, which it then closes).
    const made = await fetch(`${base}/v1/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench' }),
    });
    if (made.status !== 201) throw new Error(`POST /v1/keys answered ${made.status}: ${await made.text()}`);
    const auth = { authorization: `Bearer ${((await made.json()) as { key: string }).key}` };
    const post = async (name: string) => {
      const res = await fetch(`${base}/v1/generations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ type: 'hello_world', input: { name } }),
      });
      if (res.status !== 202) throw new Error(`POST answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    };
    const getJson = async (path: string) => {
      const res = await fetch(base + path, { headers: auth });
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
      return res.json() as Promise<any>;
    };

    const reads = { one: [] as number[], list: [] as number[], bareOne: [] as number[], bareList: [] as number[] };
    /** CPU µs per request of the serving process (and the bench's autocannon), by URL. */
    const readCpu = {
      one: new Map<string, number[]>(),
      list: new Map<string, number[]>(),
      bareOne: new Map<string, number[]>(),
      bareList: new Map<string, number[]>(),
    };
    if (PARTS.has('reads')) {
      progress(`${db}: seeding 25 completed generations`);
      // --- reads: 25 completed generations, the list's first page and one of them, against the bare route ---
      const ids = await Promise.all(Array.from({ length: 25 }, (_, i) => post(`reader ${i}`)));
      for (const id of ids) {
        for (let i = 0; (await getJson(`/v1/generations/${id}`)).status !== 'completed'; i++) {
          if (i > 600) throw new Error(`${id} did not complete`);
          await sleep(100);
        }
      }
      const onePath = `/v1/generations/${ids[0]}`;
      const listPath = '/v1/generations?limit=20';
      writeFileSync(join(work, 'one.json'), JSON.stringify(await getJson(onePath)));
      writeFileSync(join(work, 'list.json'), JSON.stringify(await getJson(listPath)));
      const bare = spawnService(
        'bare',
        process.execPath,
        [...profileArgs, ...tsxNode(join(root, 'bench/api/bare.ts'))],
        { ...baseEnv, PORT: String(barePort), BARE_ONE: join(work, 'one.json'), BARE_LIST: join(work, 'list.json') },
        root,
      );
      await bare.waitForOutput(/bare ready/, 30_000);
      progress(`${db}: reads`);
      // Warm-up (JIT, caches, connections) on every URL before the measured rounds.
      for (const url of [base + onePath, base + listPath, `http://127.0.0.1:${barePort}/one`, `http://127.0.0.1:${barePort}/list`]) {
        await loadFor(url, 1, auth);
      }
      for (let r = 0; r < ROUNDS; r++) {
        reads.one.push(await loadFor(base + onePath, READ_SECONDS, auth, readCpu.one));
        reads.bareOne.push(await loadFor(`http://127.0.0.1:${barePort}/one`, READ_SECONDS, auth, readCpu.bareOne));
        reads.list.push(await loadFor(base + listPath, READ_SECONDS, auth, readCpu.list));
        reads.bareList.push(await loadFor(`http://127.0.0.1:${barePort}/list`, READ_SECONDS, auth, readCpu.bareList));
      }
      await bare.stop();
    }

    // --- added latency: POST → `completed` SSE event, against a direct client's start → result ---
    const viaGateway: number[] = [];
    const direct: number[] = [];
    if (PARTS.has('latency')) {
      progress(`${db}: added latency`);
      for (let r = 0; r < LATENCY_RUNS; r++) {
        let t = performance.now();
        const id = await post(`latency ${r}`);
        const res = await fetch(`${base}/v1/generations/${id}/events`, { headers: auth });
        const decoder = new TextDecoder();
        let text = '';
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          text += decoder.decode(chunk, { stream: true });
          if (/^event: completed$/m.test(text)) break;
        }
        viaGateway.push(performance.now() - t);
        t = performance.now();
        await (await directStart()).result();
        direct.push(performance.now() - t);
      }
    }

    // --- starts: the same number of HelloWorld starts through the gateway and directly, same concurrency ---
    progress(`${db}: starts`);
    await drain();
    const starts = { gateway: [] as number[], bare: [] as number[], direct: [] as number[] };
    // CPU per start by process, summed over the rounds (this bench's process makes the requests on both sides).
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const cpuLabels = {
      gateway: { match: new RegExp(escape(join(root, 'apps/gateway/src/main.ts'))) },
      worker: { match: new RegExp(escape(join(root, 'apps/generation-worker/src/main.ts'))) },
      temporal: { match: new RegExp(`--metrics-port ${new URL(temporal.metricsUrl).port}\\b`) },
      ...(db === 'postgres' ? { postgres: { match: new RegExp(`-p ${pg.port}\\b`), tree: true } } : {}),
      bare: { match: new RegExp(escape(join(root, 'bench/api/bare.ts'))) },
      bench: { match: new RegExp(escape(join(root, 'bench/api/bench.ts'))) },
    };
    const cpu = { gateway: new Map<string, number>(), bare: new Map<string, number>(), direct: new Map<string, number>() };
    const addCpu = (into: Map<string, number>, perOp: Record<string, number>) => {
      for (const [k, v] of Object.entries(perOp)) into.set(k, (into.get(k) ?? 0) + v / ROUNDS);
    };
    // Warm-up, as the reads have: a few starts on each side before the measured rounds (JIT, pools, connections).
    // Both sides the same way: CONNECTIONS loops, each awaiting its start before the next, `total` starts in all
    // (autocannon's `amount` mode ends on its one-second ticker, which quantized this figure).
    const startsInLoops = async (total: number, start: () => Promise<unknown>) => {
      let left = total;
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          while (left-- > 0) await start();
        }),
      );
    };
    // The third side, a bare HTTP route that only starts the workflow (bare.ts): what the HTTP hop alone costs here.
    const bareStarter = PARTS.has('starts')
      ? spawnService(
          'bare-start',
          process.execPath,
          [...profileArgs, ...tsxNode(join(root, 'bench/api/bare.ts'))],
          { ...baseEnv, PORT: String(barePort), BARE_TEMPORAL_ADDRESS: temporal.address, BARE_SECRET: secret },
          root,
        )
      : null;
    if (bareStarter) services.push(bareStarter);
    await bareStarter?.waitForOutput(/bare ready/, 30_000);
    const bareStart = async () => {
      const res = await fetch(`http://127.0.0.1:${barePort}/start`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ type: 'hello_world', input: { name: 'starts' } }),
      });
      if (res.status !== 202) throw new Error(`bare POST answered ${res.status}: ${await res.text()}`);
      return res.json();
    };
    /** One side's round: `STARTS` starts timed, then its CPU per start until the last run ended (the runs included). */
    const round = async (side: keyof typeof starts, start: () => Promise<unknown>) => {
      const before = cpuSample(cpuLabels);
      const t = performance.now();
      await startsInLoops(STARTS, start);
      starts[side].push(STARTS / ((performance.now() - t) / 1000));
      await drain();
      addCpu(cpu[side], cpuPerOp(before, cpuSample(cpuLabels), STARTS));
    };
    const sides = { gateway: () => post('starts'), bare: bareStart, direct: directStart };
    if (PARTS.has('starts')) {
      for (const start of Object.values(sides)) await startsInLoops(CONNECTIONS * 5, start);
      await drain();
    }
    for (let r = 0; PARTS.has('starts') && r < ROUNDS; r++) {
      for (const [side, start] of Object.entries(sides)) await round(side as keyof typeof sides, start);
    }
    await bareStarter?.stop();
    await gateway.stop();

    const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]!));
    console.log(`\n== gateway on ${db} ==`);
    if (PARTS.has('reads'))
      console.log(
        `GET one completed generation  ${reads.one.map((x) => fmt(x)).join(' / ')} req/s   bare route ${reads.bareOne.map((x) => fmt(x)).join(' / ')} req/s   ratio ${verdict(ratio(reads.one, reads.bareOne), TARGET_READS)}`,
      );
    if (PARTS.has('reads'))
      console.log(
        `GET list ?limit=20            ${reads.list.map((x) => fmt(x)).join(' / ')} req/s   bare route ${reads.bareList.map((x) => fmt(x)).join(' / ')} req/s   ratio ${verdict(ratio(reads.list, reads.bareList), TARGET_READS)}`,
      );
    if (PARTS.has('reads')) {
      const us = (m: Map<string, number[]>, label: string) => (m.get(label)?.length ? fmt(median(m.get(label)!)) : '-');
      for (const [what, g, b] of [
        ['one', readCpu.one, readCpu.bareOne],
        ['list', readCpu.list, readCpu.bareList],
      ] as const)
        console.log(
          `  CPU µs per request (${what}, median): gateway ${us(g, 'gateway')}, bare route ${us(b, 'bare')}; autocannon ${us(g, 'bench')} / ${us(b, 'bench')}`,
        );
    }
    if (PARTS.has('starts')) {
      const perSecond = (xs: number[]) => xs.map((x) => fmt(x)).join(' / ');
      console.log(
        `HelloWorld starts             gateway ${perSecond(starts.gateway)} /s   direct client ${perSecond(starts.direct)} /s   ratio ${verdict(ratio(starts.gateway, starts.direct), TARGET_STARTS)}`,
      );
      console.log(
        `  bare start route ${perSecond(starts.bare)} /s: an HTTP hop alone reaches ${ratio(starts.bare, starts.direct).toFixed(2)} of the direct client; the gateway ${ratio(starts.gateway, starts.bare).toFixed(2)} of the bare route`,
      );
      console.log(`  CPU ms per start (to the run's end), through the gateway: ${formatCpu(Object.fromEntries(cpu.gateway))}`);
      console.log(`  CPU ms per start (to the run's end), bare start route:    ${formatCpu(Object.fromEntries(cpu.bare))}`);
      console.log(`  CPU ms per start (to the run's end), direct client:       ${formatCpu(Object.fromEntries(cpu.direct))}`);
    }
    if (PARTS.has('latency'))
      console.log(
        `completed over SSE after POST median ${fmt(median(viaGateway))} ms   direct start→result median ${fmt(median(direct))} ms   added latency ${fmt(median(viaGateway) - median(direct))} ms`,
      );
  }
  console.log(`\nload average at the end: ${loadAverage()}`);
  await connection.close();
} finally {
  for (const s of services.reverse()) await s.stop().catch(() => {});
  await temporal.teardown().catch(() => {});
  await pg.stop().catch(() => {});
  rmSync(work, { recursive: true, force: true });
}
