/**
 * Logs, metrics and traces of one real generation on the whole stack (processes, Temporal, PostgreSQL, FFmpeg, the
 * fake Replicate): every service writes the same JSON lines, every line of the generation's work carries its ids and
 * no secret; the gateway's metrics port and each worker's health server answer Prometheus metrics that counted it;
 * and a local OTLP/HTTP receiver gets one trace from the HTTP request to the FFmpeg run.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Generation } from '@gptmarket/contracts';
import { freePort } from '@gptmarket/testkit';
import { FAKE_REPLICATE_KEY, startFakeReplicate, type FakeReplicate } from '../../../packages/providers/test/fakes/replicate.js';
import { api, startStack, waitForStatus, type Stack } from './helpers.js';

interface ReceivedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
}

/** An OTLP/HTTP collector for traces (JSON encoding, as the OTLP specification's "JSON Protobuf Encoding": hex ids). */
async function startOtlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const body = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
  };
  const server: Server = createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/traces') return res.writeHead(404).end();
    if (!String(req.headers['content-type']).startsWith('application/json')) return res.writeHead(415).end();
    const payload = JSON.parse((await body(req)).toString('utf8'));
    for (const rs of payload.resourceSpans ?? []) {
      const service = rs.resource?.attributes?.find((a: any) => a.key === 'service.name')?.value?.stringValue ?? '?';
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          spans.push({ service, name: s.name, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '' });
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** Parsed Prometheus text: the sum of the samples of `name` whose labels include `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      sum += Number(m[3]);
      found = true;
    }
  }
  if (!found) {
    const near = [...new Set(text.match(new RegExp(`^${name.split('_').slice(0, 2).join('_')}\\w*`, 'gm')))];
    throw new Error(`no sample ${name}${JSON.stringify(labels)}; metrics with its prefix: ${near.join(', ')}`);
  }
  return sum;
}

const jsonLines = (output: string): Record<string, any>[] =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, any>;
      } catch {
        return null;
      }
    })
    .filter((l): l is Record<string, any> => l !== null);

let stack: Stack;
let replicate: FakeReplicate;
let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
let hooks: Server;
let hookUrl: string;
const ports = { gateway: 0, generation: 0, media: 0 };
const WEBHOOK_SECRET = 'whsec_observability_0123456789';
const REQUEST_ID = 'obs-request-000001';
let gen: Generation;

beforeAll(async () => {
  [replicate, otlp] = await Promise.all([startFakeReplicate({ pollsToFinish: 1 }), startOtlpReceiver()]);
  // The first face-image create is answered 429 (Retry-After: 0): counted, retried, then served.
  replicate.script.createFailures = [{ status: 429, retryAfter: '0' }];
  hooks = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hooks.address() as { port: number }).port}/hook`;
  [ports.gateway, ports.generation, ports.media] = [await freePort(), await freePort(), await freePort()];
  stack = await startStack(
    'gateway_observability',
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      LOG_LEVEL: 'debug', // the SDK's own lines ("Activity completed", ...) are debug lines
      RATE_LIMIT_ANON_MAX: '100000',
      TRACKER_INTERVAL_MS: '100',
      WEBHOOK_SIGNING_SECRET: WEBHOOK_SECRET,
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    },
    {
      gateway: { METRICS_PORT: String(ports.gateway) },
      'generation-worker': {
        HEALTH_PORT: String(ports.generation),
        REPLICATE_API_KEY: FAKE_REPLICATE_KEY,
        REPLICATE_BASE_URL: `${replicate.url}/v1`,
        PROVIDER_DOWNLOAD_ALLOWED_HOSTS: new URL(replicate.url).host,
      },
      'media-worker': { HEALTH_PORT: String(ports.media) },
    },
  );
  const created = await api(
    stack,
    'POST',
    '/v1/generations',
    { type: 'ruby', input: { emotion: 'shocked', text_overlay: 'observed' }, webhook_url: hookUrl },
    { 'x-request-id': REQUEST_ID },
  );
  expect(created.status, created.text).toBe(202);
  gen = await waitForStatus(stack, created.json.id, ['completed', 'failed', 'cancelled'], 150_000);
  expect(gen.status, JSON.stringify(gen.error)).toBe('completed');
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([replicate?.close(), otlp?.close(), new Promise((r) => hooks?.close(r))]);
});

const scrape = async (port: number) => {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
};

/** Waits for `check` to pass (metrics and spans arrive a moment after the generation's record). */
async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

describe('logs', () => {
  it('one JSON line per request from the gateway, with the request id, and no secret from the URL or headers', async () => {
    await api(stack, 'GET', '/health?token=supersecret-query-value&verbose=1', undefined, {
      authorization: 'Bearer gmk_not_a_real_key_0123456789',
      cookie: 'session=cookie-secret-value',
    });
    const gateway = stack.services[2]!;
    const access = await eventually(() => {
      const lines = jsonLines(gateway.output()).filter((l) => l.msg === 'request');
      const post = lines.find((l) => l.request_id === REQUEST_ID);
      const health = lines.find((l) => l.route === '/health');
      expect(post && health).toBeTruthy();
      return { post: post!, health: health! };
    });
    expect(access.post).toMatchObject({ service: 'gateway', level: 'info', method: 'POST', route: '/v1/generations', status_code: 202 });
    expect(access.post.duration_ms).toBeGreaterThanOrEqual(0);
    expect(access.health.url).toBe('/health?token=%5Bredacted%5D&verbose=1');
    // Only one access line for the POST.
    expect(jsonLines(gateway.output()).filter((l) => l.request_id === REQUEST_ID && l.msg === 'request')).toHaveLength(1);
  });

  it("every line of the generation's work, in both workers, carries its generation id and workflow id", () => {
    for (const [i, name] of [
      [0, 'generation-worker'],
      [1, 'media-worker'],
    ] as const) {
      const lines = jsonLines(stack.services[i]!.output());
      const mine = lines.filter((l) => l.workflowId === gen.workflow_id);
      // The SDK's lines (workflow and activity starts and completions) and ours, as the same JSON lines.
      expect(mine.length, name).toBeGreaterThanOrEqual(2);
      expect(mine.every((l) => l.service === name && typeof l.level === 'string' && typeof l.time === 'string')).toBe(true);
      expect(
        mine.filter((l) => l.generation_id !== gen.id).map((l) => l.msg),
        name,
      ).toEqual([]);
      expect(
        mine.some((l) => /^Activity /.test(l.msg)),
        name,
      ).toBe(true);
    }
    // The workflow's own lines (no activity type) too: "Workflow started", "Workflow completed".
    const mine = jsonLines(stack.services[0]!.output()).filter((l) => l.workflowId === gen.workflow_id);
    expect(
      mine.filter((l) => !l.activityType).map((l) => `${l.sdkComponent}: ${l.msg}`),
      JSON.stringify(mine.map((l) => l.msg)),
    ).toEqual(expect.arrayContaining([expect.stringMatching(/Workflow started/), expect.stringMatching(/Workflow completed/)]));
  });

  it('no service ever prints a secret', () => {
    const all = stack.services.map((s) => s.output()).join('\n');
    for (const secret of [
      stack.secret,
      FAKE_REPLICATE_KEY,
      WEBHOOK_SECRET,
      'supersecret-query-value',
      'gmk_not_a_real_key',
      'cookie-secret-value',
    ])
      expect(all).not.toContain(secret);
  });
});

describe('metrics', () => {
  it('the gateway counts requests, generations and webhook deliveries on its metrics port, not on the API port', async () => {
    const text = await eventually(async () => {
      const t = await scrape(ports.gateway);
      expect(sample(t, 'gptmarket_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1);
      return t;
    });
    expect(
      sample(text, 'gptmarket_http_request_duration_seconds_count', { method: 'POST', route: '/v1/generations', status_code: '202' }),
    ).toBe(1);
    expect(
      sample(text, 'gptmarket_http_request_duration_seconds_count', { route: '/v1/generations/:id', status_code: '200' }),
    ).toBeGreaterThan(0);
    expect(sample(text, 'gptmarket_generations_started_total', { type: 'ruby' })).toBe(1);
    expect(sample(text, 'gptmarket_generations_finished_total', { type: 'ruby', status: 'completed' })).toBe(1);
    // What the generation cost, by key (open mode), provider and model: the record's cost items, summed.
    expect(gen.cost?.items.length).toBeGreaterThan(0);
    const byModel = new Map<string, number>();
    for (const item of gen.cost!.items)
      byModel.set(`${item.provider}|${item.model}`, (byModel.get(`${item.provider}|${item.model}`) ?? 0) + item.amount);
    for (const [key, amount] of byModel) {
      const [provider, model] = key.split('|') as [string, string];
      expect(sample(text, 'gptmarket_generation_cost_usd_total', { api_key: 'open', provider, model })).toBeCloseTo(amount, 6);
    }
    expect((await api(stack, 'GET', '/metrics')).status).toBe(404);
  });

  it("the generation worker: provider latency, errors and 429s by model, step durations, and Temporal's own metrics", async () => {
    const text = await scrape(ports.generation);
    const model = replicate.predictions.values().next().value!.model;
    expect(sample(text, 'gptmarket_provider_rate_limited_total', { provider: 'replicate', model })).toBe(1);
    expect(sample(text, 'gptmarket_provider_errors_total', { provider: 'replicate', model, code: 'rate_limited' })).toBe(1);
    expect(sample(text, 'gptmarket_provider_request_duration_seconds_count', { provider: 'replicate', model, outcome: 'ok' })).toBe(1);
    // Two creates (face, clip) and at least one status poll each (model `none`).
    expect(
      sample(text, 'gptmarket_provider_request_duration_seconds_count', { provider: 'replicate', model: 'none', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'gptmarket_step_duration_seconds_count', { task_queue: 'generation-queue', outcome: 'completed' })).toBeGreaterThan(
      2,
    );
    // The SDK's worker metrics, including the queue backlog signal the alert rules use.
    expect(sample(text, 'temporal_activity_schedule_to_start_latency_count', { task_queue: 'generation-queue' })).toBeGreaterThan(0);
    expect(sample(text, 'temporal_workflow_completed')).toBeGreaterThan(0);
  });

  it('the media worker: FFmpeg render seconds and realtime factor', async () => {
    const text = await scrape(ports.media);
    expect(sample(text, 'gptmarket_ffmpeg_render_seconds_count', { outcome: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'gptmarket_ffmpeg_realtime_factor_count')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'gptmarket_ffmpeg_realtime_factor_sum')).toBeGreaterThan(0);
    expect(
      sample(text, 'gptmarket_step_duration_seconds_count', { task_queue: 'media-queue', outcome: 'completed' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'temporal_activity_schedule_to_start_latency_count', { task_queue: 'media-queue' })).toBeGreaterThan(0);
  });
});

describe('traces', () => {
  it('one trace from the HTTP request through the workflow start, the workflow, its activities, the provider calls and FFmpeg', async () => {
    const trace = await eventually(() => {
      const root = otlp.spans.find((s) => s.service === 'gateway' && s.name === 'POST /v1/generations');
      expect(root).toBeDefined();
      const spans = otlp.spans.filter((s) => s.traceId === root!.traceId);
      const names = spans.map((s) => `${s.service}: ${s.name}`);
      for (const want of [
        /^gateway: StartWorkflow:RubyWorkflow$/,
        /^generation-worker: RunWorkflow:RubyWorkflow$/,
        /^generation-worker: RunActivity:/,
        /^generation-worker: provider replicate$/,
        /^media-worker: RunActivity:/,
        /^media-worker: ffmpeg$/,
      ])
        expect(
          names.some((n) => want.test(n)),
          `${want} in ${names.join(', ')}`,
        ).toBe(true);
      // Every span but the request's has its parent in the same trace: one tree, not spans that merely share an id.
      const ids = new Set(spans.map((s) => s.spanId));
      expect(spans.filter((s) => s !== root && !ids.has(s.parentSpanId)).map((s) => `${s.service}: ${s.name}`)).toEqual([]);
      return { root: root!, spans };
    });
    expect(trace.root.traceId).toMatch(/^[0-9a-f]{32}$/);
    // The request's log line names its trace, and so do the activities' lines.
    const logs = stack.services.flatMap((s) => jsonLines(s.output()));
    expect(logs.find((l) => l.request_id === REQUEST_ID && l.msg === 'request')?.trace_id).toBe(trace.root.traceId);
    expect(logs.some((l) => l.workflowId === gen.workflow_id && l.activityType && l.trace_id === trace.root.traceId)).toBe(true);
    expect(trace.root.parentSpanId).toBe('');
  }, 60_000);
});
