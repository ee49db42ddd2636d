import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { Generation } from '@gptmarket/contracts';
import { startFakeReplicate, FAKE_REPLICATE_KEY, type FakeReplicate } from '../../../packages/providers/test/fakes/replicate.js';
import { join, resolve } from 'node:path';
import { spawnService, waitFor } from '@gptmarket/testkit';
import { api, readSse, startStack, waitForStatus as waitForGeneration, type Stack } from './helpers.js';

let stack: Stack;
let replicate: FakeReplicate;
const WEBHOOK_SECRET = 'whsec_test_0123456789';
const ORIGIN = 'http://app.example.test';

beforeAll(async () => {
  replicate = await startFakeReplicate({ pollsToFinish: 1 });
  const fakeHost = new URL(replicate.url).host;
  stack = await startStack('gateway_api', {
    WEBHOOK_SIGNING_SECRET: WEBHOOK_SECRET,
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    WEBHOOK_MAX_ATTEMPTS: '8',
    CORS_ORIGINS: ORIGIN,
    TRACKER_INTERVAL_MS: '100',
    SSE_HEARTBEAT_MS: '200',
    RATE_LIMIT_ANON_MAX: '100000',
    REPLICATE_API_KEY: FAKE_REPLICATE_KEY,
    REPLICATE_BASE_URL: `${replicate.url}/v1`,
    PROVIDER_DOWNLOAD_ALLOWED_HOSTS: fakeHost,
  });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  await replicate?.close();
});

const create = async (body: unknown, headers: Record<string, string> = {}) => {
  const res = await api(stack, 'POST', '/v1/generations', body, headers);
  return res;
};
const waitForStatus = (id: string, statuses: string[], timeoutMs?: number) => waitForGeneration(stack, id, statuses, timeoutMs);
const dbRow = async (id: string) => {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    return (await client.query('select * from generations where id = $1', [id])).rows[0];
  } finally {
    await client.end();
  }
};
const countWorkflows = async (query?: string) => {
  let n = 0;
  for await (const _ of stack.temporal.client.workflow.list(query ? { query } : undefined)) n++;
  return n;
};

/** Reads an SSE stream of the stack's gateway into events until it closes or `until` says stop. */
const readEvents = (path: string, opts: Parameters<typeof readSse>[1] = {}) => readSse(stack.baseUrl + path, opts);

describe('catalogue and OpenAPI', () => {
  it('lists the generation types with JSON Schemas and without secret_key', async () => {
    const { status, json } = await api(stack, 'GET', '/v1/generation-types');
    expect(status).toBe(200);
    const ruby = json.find((t: any) => t.type === 'ruby');
    expect(ruby.workflow_type).toBe('RubyWorkflow');
    expect(ruby.input_schema.properties.video_duration).toMatchObject({ minimum: 5, maximum: 10 });
    expect(ruby.input_schema.properties.secret_key).toBeUndefined();
    expect(ruby.output_schema.properties.final_video_url).toBeDefined();
    const videoModels = ruby.input_schema.properties.video_model_params.anyOf;
    expect(videoModels.map((m: any) => m.title)).toEqual(['kling-v2.6', 'seedance-1.5-pro']);
    expect(videoModels[1].properties.fps.anyOf[0]).toMatchObject({ const: 24, default: 24 });
  });

  it('serves an OpenAPI 3 document generated from the contracts that validates, and a page to read it', async () => {
    const { json } = await api(stack, 'GET', '/openapi.json');
    expect(json.openapi).toMatch(/^3\./);
    const doc = (await SwaggerParser.validate(structuredClone(json))) as any;
    for (const path of [
      '/v1/generations',
      '/v1/generations/{id}',
      '/v1/generations/{id}/cancel',
      '/v1/generations/{id}/retry',
      '/v1/generations/{id}/events',
      '/v1/generation-types',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(doc.paths['/v1/generations'].post.requestBody.content['application/json'].schema.properties.type).toBeDefined();
    // What `input` holds for each type, with each model's params typed from the model registry.
    const ruby = doc.components.schemas.RubyInput;
    expect(ruby.properties.secret_key).toBeUndefined();
    expect(ruby.properties.image_model_params).toMatchObject({ type: 'object', default: {}, 'x-model-field': 'image_model' });
    const byModel = Object.fromEntries(ruby.properties.image_model_params.anyOf.map((m: any) => [m.title, m]));
    expect(Object.keys(byModel)).toEqual(['nano-banana', 'hidream-fast']);
    expect(byModel['hidream-fast'].properties.speed_mode).toMatchObject({
      type: 'string',
      nullable: true,
      default: 'Extra Juiced 🚀 (even more speed)',
    });
    expect(byModel['hidream-fast'].properties.speed_mode.enum).toContain('Juiced 🔥 (more speed)');
    expect(byModel['hidream-fast'].properties.prompt).toBeUndefined();
    const kling = ruby.properties.video_model_params.anyOf.find((m: any) => m.title === 'kling-v2.6');
    expect(kling.properties.duration).toMatchObject({ type: 'number', enum: [5, 10], default: 5 });
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['SlideshowsPinterestInput', 'VoiceoverInput', 'TranscriptSummaryInput', 'HelloWorldInput']),
    );
    const page = await fetch(`${stack.baseUrl}/docs`, { redirect: 'follow' });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/swagger/i);
  });
});

describe('docs/api.md', () => {
  const doc = readFileSync(resolve(import.meta.dirname, '../../../docs/api.md'), 'utf8');
  /** `METHOD /path` of each table row in one `## ` section. */
  const rows = (title: string) => {
    const start = doc.indexOf(`\n## ${title}\n`);
    expect(start, `section "${title}"`).toBeGreaterThan(0);
    const end = doc.indexOf('\n## ', start + 1);
    return [...doc.slice(start, end < 0 ? undefined : end).matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE) (\/[^`]*)`/gm)].map(
      (m) => `${m[1]} ${m[2]}`,
    );
  };

  it('documents every operation /openapi.json has, and no other', async () => {
    const { json } = await api(stack, 'GET', '/openapi.json');
    const served = Object.entries(json.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    expect(served.length).toBeGreaterThan(5);
    expect(rows('Endpoints').sort()).toEqual(served.sort());
  });

  it('lists operational endpoints the gateway serves outside the OpenAPI document', async () => {
    const { json } = await api(stack, 'GET', '/openapi.json');
    const operational = rows('Operational endpoints');
    expect(operational).toContain('GET /health');
    for (const op of operational) {
      const [method, path] = op.split(' ') as [string, string];
      expect(Object.keys(json.paths), op).not.toContain(path);
      if (path.includes('<')) continue; // a pattern, e.g. /media/<key>
      const res = await fetch(stack.baseUrl + path, { method, redirect: 'follow' });
      await res.body?.cancel();
      expect(res.status, op).toBeLessThan(400);
    }
  });
});

describe('progress over SSE', () => {
  it('sends progress on changes, then one final event with the whole generation, then closes; many listeners share it', async () => {
    replicate.script.pollsToFinish = 3; // keep the face and video steps running long enough to be watched
    const { json: gen } = await create({ type: 'ruby', input: { text_overlay: 'sse' } });
    const listeners = await Promise.all(Array.from({ length: 12 }, () => readEvents(`/v1/generations/${gen.id}/events`))).finally(() => {
      replicate.script.pollsToFinish = 1;
    });
    for (const l of listeners) {
      expect(l.status).toBe(200);
      expect(l.contentType).toMatch(/^text\/event-stream/);
      const last = l.events[l.events.length - 1]!;
      expect(last.event).toBe('completed');
      const final = JSON.parse(last.data) as Generation;
      expect(final.id).toBe(gen.id);
      expect(final.output?.final_video_url).toMatch(/\/media\/ruby\/videos\//);
      const progress = l.events.slice(0, -1);
      expect(progress.every((e) => e.event === 'progress')).toBe(true);
      const ids = l.events.map((e) => Number(e.id));
      expect([...ids].sort((a, b) => a - b)).toEqual(ids); // ordered
      expect(new Set(ids).size).toBe(ids.length);
    }
    // someone saw a running step on the way (steps change while listeners watch)
    const steps = new Set(
      listeners.flatMap((l) => l.events.filter((e) => e.event === 'progress').map((e) => JSON.parse(e.data).current_step?.step_id)),
    );
    expect([...steps].some((s) => ['prompts', 'face', 'video', 'slowmo', 'upload'].includes(s))).toBe(true);
  }, 90_000);

  it('follows a run from the progress its workflow pushes: every long step reaches the listener, with no queries', async () => {
    // Queries the Temporal server answered, from its own metrics (each one is a workflow task on a worker).
    const queries = async () =>
      (await (await fetch(stack.temporal.metricsUrl)).text())
        .split('\n')
        .filter((line) => line.startsWith('service_requests{') && line.includes('operation="QueryWorkflow",service_name="frontend"'))
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    replicate.script.pollsToFinish = 3; // the face and video steps each last a few polls
    try {
      const { json: gen } = await create({ type: 'ruby', input: { text_overlay: 'pushed' } });
      const before = await queries();
      const { events } = await readEvents(`/v1/generations/${gen.id}/events`);
      const after = await queries();
      expect(events.at(-1)!.event).toBe('completed');
      const steps = events.filter((e) => e.event === 'progress').map((e) => JSON.parse(e.data).current_step?.step_id);
      expect(steps).toContain('face');
      expect(steps).toContain('video');
      // Following the run asks nothing (the tracker follows it, so the listener's first look asks nothing either); at
      // most one look with the two queries if a first workflow task completed before the run's patch marker.
      expect(after - before).toBeLessThanOrEqual(2);
    } finally {
      replicate.script.pollsToFinish = 1;
    }
  }, 90_000);

  it('resumes with Last-Event-ID and sends heartbeats while waiting', async () => {
    replicate.script.pollsToFinish = 3; // slow the face step down a little (fake polls)
    try {
      const { json: gen } = await create({ type: 'ruby', input: {} });
      const first = await readEvents(`/v1/generations/${gen.id}/events`, { until: (e) => e.length >= 1, timeoutMs: 30_000 });
      const lastId = first.events[first.events.length - 1]!.id!;
      const resumed = await readEvents(`/v1/generations/${gen.id}/events`, { lastEventId: lastId, timeoutMs: 120_000 });
      expect(resumed.events.every((e) => Number(e.id) > Number(lastId) || e.event === 'completed')).toBe(true);
      expect(resumed.events[resumed.events.length - 1]!.event).toBe('completed');
      expect(resumed.comments).toBeGreaterThan(0); // heartbeats (200 ms in this stack)
    } finally {
      replicate.script.pollsToFinish = 1;
    }
  }, 150_000);

  it('answers 404 for an unknown generation', async () => {
    expect((await api(stack, 'GET', '/v1/generations/gen_unknownunknown1/events')).status).toBe(404);
  });
});

describe('job records', () => {
  it('reach their terminal state in the database with nobody polling or listening', async () => {
    const { json: gen } = await create({ type: 'hello_world', input: { name: 'nobody' } });
    const deadline = Date.now() + 30_000;
    let row;
    do {
      await new Promise((r) => setTimeout(r, 200));
      row = await dbRow(gen.id);
    } while (row.status !== 'completed' && Date.now() < deadline);
    expect(row.status).toBe('completed');
    expect(row.output).toEqual({ message: 'Hello, nobody!' });
    expect(row.completed_at).not.toBeNull();
  });

  it('lists newest first with filters and a cursor', async () => {
    for (let i = 0; i < 3; i++) await create({ type: 'hello_world', input: { name: `page ${i}` } });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await api(stack, 'GET', `/v1/generations?type=hello_world&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.json.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.json.data.map((g: Generation) => g.created_at + g.id));
      expect(res.json.data.every((g: Generation) => g.type === 'hello_world')).toBe(true);
      cursor = res.json.next_cursor;
    } while (cursor);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect([...seen].sort().reverse()).toEqual(seen);
    expect((await api(stack, 'GET', '/v1/generations?limit=0')).status).toBe(400);
    expect((await api(stack, 'GET', '/v1/generations?limit=101')).status).toBe(400);
    expect((await api(stack, 'GET', '/v1/generations?status=done')).status).toBe(400);
    expect((await api(stack, 'GET', '/v1/generations?cursor=bm9wZQ')).status).toBe(400);
  });

  it('a record that cannot be written leaves no workflow running: a start made beside it is terminated', async () => {
    // Only the record fails (a constraint the database enforces); the gateway may start the workflow beside it. A Ruby
    // run (a paid one) lasts long enough to be stopped; an instant HelloWorld may end before the terminate reaches it.
    const sql = new pg.Client({ connectionString: stack.databaseUrl });
    await sql.connect();
    const since = `WorkflowType="RubyWorkflow" AND StartTime > "${new Date(Date.now() - 1).toISOString()}"`;
    try {
      await sql.query("alter table generations add constraint test_refuse_record check (not (metadata ? 'refuse')) not valid");
      const res = await create({ type: 'ruby', input: { text_overlay: 'unrecorded' }, metadata: { refuse: 'yes' } });
      expect(res.status).toBe(500);
      expect(JSON.stringify(res.json)).not.toMatch(/test_refuse_record|constraint|generations/); // no internals
    } finally {
      await sql.query('alter table generations drop constraint if exists test_refuse_record');
      await sql.end();
    }
    await waitFor('no workflow of the refused request to run', async () =>
      (await countWorkflows(`${since} AND ExecutionStatus="Running"`)) === 0 ? true : undefined,
    );
    // At most the one start, and only terminated.
    expect(await countWorkflows(since)).toBeLessThanOrEqual(1);
    expect(await countWorkflows(`${since} AND ExecutionStatus!="Terminated"`)).toBe(0);
  });

  it('a workflow started directly through Temporal (seed-style client) breaks nothing', async () => {
    await stack.temporal.client.workflow.execute('HelloWorldWorkflow', {
      taskQueue: 'generation-queue',
      workflowId: `direct-${Date.now()}`,
      args: [{ secret_key: stack.secret }],
    });
    const res = await api(stack, 'GET', '/v1/generations?limit=5');
    expect(res.status).toBe(200);
    expect((await api(stack, 'GET', '/ready')).status).toBe(200);
  });
});

describe('idempotency', () => {
  it('returns the same generation for the same key and body, 409 for a different body', async () => {
    const body = { type: 'hello_world', input: { name: 'idem' } };
    const a = await create(body, { 'idempotency-key': 'order-42' });
    const b = await create(body, { 'idempotency-key': 'order-42' });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.json.id).toBe(a.json.id);
    const c = await create({ ...body, input: { name: 'other' } }, { 'idempotency-key': 'order-42' });
    expect(c.status).toBe(409);
    expect(c.json.error.code).toBe('idempotency_conflict');
  });

  it('starts exactly one workflow for concurrent duplicates', async () => {
    const body = { type: 'hello_world', input: { name: 'race' } };
    const results = await Promise.all(Array.from({ length: 10 }, () => create(body, { 'idempotency-key': 'race-1' })));
    expect(results.every((r) => r.status === 202)).toBe(true);
    expect(new Set(results.map((r) => r.json.id)).size).toBe(1);
    const workflowId = results[0]!.json.workflow_id;
    await waitForStatus(results[0]!.json.id, ['completed']);
    expect(await countWorkflows(`WorkflowId = "${workflowId}"`)).toBe(1);
  });

  it('rejects malformed keys', async () => {
    expect((await create({ type: 'hello_world' }, { 'idempotency-key': 'x'.repeat(300) })).status).toBe(400);
  });
});

describe('cancel and retry', () => {
  it('cancel reaches the running provider job; retry starts a new generation', async () => {
    replicate.script.pollsToFinish = 1_000_000; // the face never finishes
    try {
      const earlier = new Set(replicate.predictions.keys());
      const { json: gen } = await create({ type: 'ruby', input: {} });
      // wait until this generation's face prediction exists at the provider
      const deadline = Date.now() + 30_000;
      while (
        ![...replicate.predictions.values()].some((p) => !earlier.has(p.id) && p.status === 'processing' && /nano-banana/.test(p.model))
      ) {
        if (Date.now() > deadline) throw new Error('no prediction was created');
        await new Promise((r) => setTimeout(r, 100));
      }
      const before = replicate.cancels().length;
      const cancel = await api(stack, 'POST', `/v1/generations/${gen.id}/cancel`);
      expect(cancel.status).toBe(202);
      const done = await waitForStatus(gen.id, ['cancelled', 'failed', 'completed'], 60_000);
      expect(done.status).toBe('cancelled');
      expect(replicate.cancels().length).toBeGreaterThan(before); // the activity saw the cancellation and cancelled the prediction
      // cancelling again is not possible
      const again = await api(stack, 'POST', `/v1/generations/${gen.id}/cancel`);
      expect(again.status).toBe(409);
      expect(again.json.error.code).toBe('invalid_state');

      replicate.script.pollsToFinish = 1;
      const retry = await api(stack, 'POST', `/v1/generations/${gen.id}/retry`);
      expect(retry.status).toBe(201);
      expect(retry.json.retry_of).toBe(gen.id);
      expect(retry.json.id).not.toBe(gen.id);
      expect(retry.json.input).toEqual(gen.input);
      expect((await waitForStatus(retry.json.id, ['completed', 'failed'], 90_000)).status).toBe('completed');
      const notAgain = await api(stack, 'POST', `/v1/generations/${retry.json.id}/retry`);
      expect(notAgain.status).toBe(409);
    } finally {
      replicate.script.pollsToFinish = 1;
    }
  }, 180_000);
});

describe('webhooks', () => {
  let server: Server;
  const received: { headers: Record<string, string>; body: string }[] = [];
  let failuresLeft = 2;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers as Record<string, string>, body });
        if (failuresLeft-- > 0) {
          res.writeHead(500).end('not yet');
        } else res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('delivers the terminal state signed, at least once, retrying a failing receiver', async () => {
    const { json: gen } = await create({ type: 'hello_world', input: { name: 'hook' }, webhook_url: url, metadata: { order: 'A-1' } });
    const deadline = Date.now() + 60_000;
    while (!received.some((r) => r.headers['webhook-id']) || failuresLeft >= 0) {
      if (Date.now() > deadline) throw new Error(`webhook not delivered; received ${received.length}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(received.length).toBeGreaterThanOrEqual(3); // two failures, then success
    const ids = new Set(received.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1); // the same event id on every attempt
    for (const r of received) {
      const expected = `v1,${createHmac('sha256', WEBHOOK_SECRET).update(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`).digest('base64')}`;
      expect(r.headers['webhook-signature']).toBe(expected);
      expect(r.headers['content-type']).toBe('application/json');
    }
    const payload = JSON.parse(received[received.length - 1]!.body) as Generation;
    expect(payload.id).toBe(gen.id);
    expect(payload.status).toBe('completed');
    expect(payload.metadata).toEqual({ order: 'A-1' });
    const client = new pg.Client({ connectionString: stack.databaseUrl });
    await client.connect();
    const { rows } = await client.query('select status, attempts from webhook_deliveries where generation_id = $1', [gen.id]);
    await client.end();
    expect(rows[0]).toMatchObject({ status: 'delivered' });
    expect(rows[0].attempts).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('keeps delivering across a restart of the gateway and the generation worker', async () => {
    let accept = false;
    const attempts: { id: string; ok: boolean }[] = [];
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        attempts.push({ id: String(req.headers['webhook-id']), ok: accept });
        res.writeHead(accept ? 200 : 503).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/restart`;
    try {
      const { json: gen } = await create({ type: 'hello_world', input: { name: 'restart' }, webhook_url: hookUrl });
      const until = async (what: string, ok: () => boolean, ms = 60_000) => {
        const deadline = Date.now() + ms;
        while (!ok()) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      await until('a first (refused) attempt', () => attempts.length >= 1);
      // Stop the gateway (it serves the delivery activity) and the generation worker (it runs the workflow).
      const repo = resolve(import.meta.dirname, '../../..');
      const restart = async (name: 'gateway' | 'generation-worker') => {
        const i = stack.services.findIndex((x) => x.name === name);
        await stack.services[i]!.stop();
        return i;
      };
      const gi = await restart('gateway');
      const wi = await restart('generation-worker');
      const node = (app: string) => ['--import', 'tsx', '--conditions=@gptmarket/source', join(repo, 'apps', app, 'src', 'main.ts')];
      stack.services[wi] = spawnService('generation-worker', process.execPath, node('generation-worker'), stack.env, repo);
      stack.services[gi] = spawnService('gateway', process.execPath, node('gateway'), stack.env, repo);
      await Promise.all([
        stack.services[wi]!.waitForOutput(/generation-worker ready/, 120_000),
        stack.services[gi]!.waitForOutput(/gateway ready/, 60_000),
      ]);
      accept = true;
      await until('a delivery after the restart', () => attempts.some((a) => a.ok), 90_000);
      expect(new Set(attempts.map((a) => a.id)).size).toBe(1); // one event, retried
      expect(attempts.filter((a) => a.ok)).toHaveLength(1);
      const client = new pg.Client({ connectionString: stack.databaseUrl });
      await client.connect();
      const { rows } = await client.query('select status from webhook_deliveries where generation_id = $1', [gen.id]);
      await client.end();
      expect(rows[0]?.status).toBe('delivered');
    } finally {
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  }, 180_000);

  it('refuses webhook URLs that point at private or metadata addresses', async () => {
    for (const bad of [
      'http://169.254.169.254/latest',
      'http://10.0.0.1/x',
      'http://[::1]:9/x',
      'http://localhost:9/x',
      'ftp://example.com/x',
      'http://user:pw@example.com/',
    ]) {
      const res = await create({ type: 'hello_world', input: {}, webhook_url: bad });
      expect(res.status, bad).toBe(400);
    }
  });

  it('answers a name that resolves privately exactly as a name that does not exist', async () => {
    const refusal = async (url: string) => {
      const res = await create({ type: 'hello_world', input: {}, webhook_url: url });
      expect(res.status, url).toBe(400);
      return res.json.error.details;
    };
    const internal = await refusal('http://localhost:9/hook'); // resolves, to loopback
    const missing = await refusal('http://no-such-host.invalid/hook'); // does not resolve
    expect(internal).toEqual(missing);
    expect(JSON.stringify(internal)).not.toMatch(/127\.0\.0\.1|::1|private|loopback/);
  });
});

describe('CORS', () => {
  it('allows the configured origin and no other', async () => {
    const ok = await fetch(`${stack.baseUrl}/v1/generations`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });
    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const res = await fetch(`${stack.baseUrl}/v1/generation-types`, { headers: { origin: 'http://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('hostile requests get a 4xx and start nothing', () => {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const cases: [string, () => Promise<{ status: number }>][] = [
    ['wrong types', () => create({ type: 'ruby', input: { video_duration: '5' } })],
    ['input as an array', () => create({ type: 'ruby', input: [1, 2] })],
    ['a huge string', () => create({ type: 'ruby', input: { text_overlay: 'x'.repeat(200_000) } })],
    ['a body over the limit', () => create({ type: 'ruby', input: { text_overlay: 'x'.repeat(300_000) } })],
    ['deep nesting', () => api(stack, 'POST', '/v1/generations', `{"type":"ruby","input":{"a":${deep(5000)}}}`)],
    ['__proto__ key', () => api(stack, 'POST', '/v1/generations', '{"type":"ruby","input":{"__proto__":{"admin":true}}}')],
    ['constructor.prototype', () => api(stack, 'POST', '/v1/generations', '{"type":"ruby","input":{"constructor":{"prototype":{"x":1}}}}')],
    ['bad JSON', () => api(stack, 'POST', '/v1/generations', '{"type": "ruby",')],
    ['empty body', () => api(stack, 'POST', '/v1/generations', '')],
    [
      'text/plain',
      () =>
        fetch(`${stack.baseUrl}/v1/generations`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"type":"ruby"}' }),
    ],
    [
      'form encoded',
      () =>
        fetch(`${stack.baseUrl}/v1/generations`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'type=ruby',
        }),
    ],
    ['no content type', () => fetch(`${stack.baseUrl}/v1/generations`, { method: 'POST', body: new Uint8Array([123, 125]) })],
    ['NUL in metadata', () => create({ type: 'hello_world', input: {}, metadata: { a: 'x\u0000y' } })],
    ['lone surrogate', () => api(stack, 'POST', '/v1/generations', '{"type":"hello_world","input":{"name":"\\ud800"}}')],
    ['NUL in a key', () => api(stack, 'POST', '/v1/generations', '{"type":"hello_world","input":{"a\\u0000":1}}')],
    ['RTL override and zero-width in a label', () => create({ type: 'ruby', input: { emotion: 'shock\u202eed' } })],
    ['a number as type', () => create({ type: 42, input: {} })],
    ['null body', () => api(stack, 'POST', '/v1/generations', 'null')],
    ['a JSON string body', () => api(stack, 'POST', '/v1/generations', '"ruby"')],
    [
      'metadata too large',
      () => create({ type: 'hello_world', input: {}, metadata: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i])) }),
    ],
    ['a bad generation id', () => api(stack, 'GET', `/v1/generations/${'%00'.repeat(10)}`)],
    ['a very long path', () => api(stack, 'GET', `/v1/generations/${'a'.repeat(5000)}`)],
    ['an unknown method', () => fetch(`${stack.baseUrl}/v1/generations`, { method: 'DELETE' })],
    ['emoji-only caption that is too long', () => create({ type: 'ruby', input: { text_overlay: '🎉'.repeat(400) } })],
  ];
  it.each(cases)('%s', async (_label, send) => {
    const before = await countWorkflows();
    const res = await send();
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await countWorkflows()).toBe(before);
  });
});
