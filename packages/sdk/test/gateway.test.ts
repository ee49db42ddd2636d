/**
 * The SDK against the real gateway: Temporal dev server, PostgreSQL, both workers and the gateway as processes.
 * Features the gateway may not have yet are probed first (capabilities) and their tests skip until they exist.
 */
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { RUBY_STEPS, RUBY_SUGGESTIONS } from '@gptmarket/contracts';
import { freePort } from '@gptmarket/testkit';
import { launchChromium } from '@gptmarket/testkit/browser';
import {
  GptMarketClient,
  GptMarketError,
  formFieldsFromJsonSchema,
  formFromGenerationType,
  getForm,
  type Generation,
  type ProgressEvent,
  type SseEvent,
} from '../src/index.js';
import { breakAfterFirstEvent, interceptEvents, probeCapabilities, startStack, type Stack } from './stack.js';

const USER = 'sdk-tests';
const PASSWORD = randomBytes(12).toString('hex');
const basicHeader = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

// --- the page the browser test loads (its origin must be known before the gateway starts, for CORS) ---
const pagePort = await freePort();
const pageOrigin = `http://127.0.0.1:${pagePort}`;
const bundle = await build({
  entryPoints: [join(import.meta.dirname, 'browser', 'page.ts')],
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  conditions: ['@gptmarket/source'],
  write: false,
  logLevel: 'silent',
});
const pageServer: Server = createServer((req, res) => {
  if (req.url === '/bundle.js') {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
    res.end(bundle.outputFiles[0]!.contents);
  } else if (req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><meta charset="utf-8"><title>sdk</title><script type="module" src="/bundle.js"></script>');
  } else {
    res.writeHead(404).end();
  }
});
await new Promise<void>((r) => pageServer.listen(pagePort, '127.0.0.1', r));

const stack: Stack = await startStack('sdk_e2e', {
  CORS_ORIGINS: pageOrigin,
  BASIC_AUTH_USER: USER,
  BASIC_AUTH_PASSWORD: PASSWORD,
  RATE_LIMIT_MAX: '100000',
  RATE_LIMIT_ANON_MAX: '100000',
  RATE_LIMIT_AUTH_FAILURES_MAX: '1000',
  SSE_HEARTBEAT_MS: '300',
});
const caps = await probeCapabilities(stack.baseUrl, basicHeader, pageOrigin);
const client = new GptMarketClient({ baseUrl: stack.baseUrl, basicAuth: { username: USER, password: PASSWORD } });

afterAll(async () => {
  await stack.stop();
  await new Promise((r) => pageServer.close(r));
});

const WAIT = { timeoutMs: 90_000 };

describe('service endpoints', () => {
  it('health and ready', async () => {
    expect(await client.health()).toEqual({ status: 'ok' });
    const ready = await client.ready();
    expect(ready.ok).toBe(true);
    expect(ready.checks).toEqual({ temporal: 'ok', database: 'ok', storage: 'ok' });
    expect(ready.workers).toEqual({ generation: expect.any(Number), media: expect.any(Number) });
    expect(Object.keys(ready.providers!).sort()).toEqual(['image_video', 'llm', 'pinterest', 'prompts', 'speech', 'transcription']);
    expect(Object.values(ready.providers!).every((v) => Array.isArray(v) && v.every((p) => typeof p === 'string'))).toBe(true);
  });

  it('the catalogue lists the types and yields the same forms as the contracts, without secret_key', async () => {
    const types = await client.generationTypes();
    const ruby = types.find((t) => t.type === 'ruby')!;
    expect(ruby).toMatchObject({ workflow_type: 'RubyWorkflow', name: 'Ruby' });
    expect(types.map((t) => t.type)).toContain('hello_world');
    expect(JSON.stringify(ruby.input_schema)).not.toContain('secret_key');
    expect(formFieldsFromJsonSchema(ruby.input_schema, { suggestions: RUBY_SUGGESTIONS })).toEqual(getForm('ruby')!.fields);
    // Every type the gateway serves gives the same form as the contracts compiled into the SDK.
    for (const info of types) {
      const form = formFromGenerationType(info);
      expect(JSON.stringify(form)).not.toContain('secret_key');
      const compiled = getForm(info.type);
      if (compiled) expect(form, info.type).toEqual(compiled);
    }
  });
});

describe('create and wait', () => {
  it('hello_world: created, then completed with its typed output', async () => {
    const created = await client.createGeneration('hello_world', { name: 'SDK' }, { metadata: { suite: 'sdk' } });
    expect(created.id).toMatch(/^gen_/);
    expect(created.type).toBe('hello_world');
    expect(['pending', 'running']).toContain(created.status);
    expect(created.metadata).toEqual({ suite: 'sdk' });
    expect(created.input).not.toHaveProperty('secret_key');
    const done = await client.waitFor(created, WAIT);
    expect(done.status, JSON.stringify(done.error)).toBe('completed');
    const message: string | undefined = done.output?.message; // typed by the contract
    expect(message).toContain('SDK');
    const again = await client.getGeneration<'hello_world'>(created.id);
    expect(again.output).toEqual(done.output);
  });

  it('ruby: completed with a playable final video, progress reported on the way', async () => {
    const created = await client.createGeneration('ruby', { emotion: 'excited', text_overlay: 'sdk test', video_duration: 5 });
    expect(created.input.video_duration).toBe(5);
    expect(created.input.aspect_ratio).toBe('9:16'); // the contract default, typed
    const progress: ProgressEvent[] = [];
    const done = await client.waitFor(created, { ...WAIT, onProgress: (p) => progress.push(p) });
    expect(done.status, JSON.stringify(done.error)).toBe('completed');
    expect(done.current_step?.step_id).toBe('complete');
    const out = done.output!;
    expect(out.final_video_url).toMatch(/^http/);
    const video = await fetch(out.final_video_url);
    expect(video.status).toBe(200);
    const bytes = new Uint8Array(await video.arrayBuffer());
    expect(new TextDecoder().decode(bytes.subarray(4, 8))).toBe('ftyp');
    expect(progress.length).toBeGreaterThan(0);
    const stepIds = new Set<string>(Object.values(RUBY_STEPS).map((s) => s.id));
    for (const p of progress)
      if (p.current_step) expect(stepIds.has(p.current_step.step_id) || p.current_step.step_id === 'complete').toBe(true);
  }, 120_000);

  it('waitFor polls when asked to, and times out or aborts as told', async () => {
    const created = await client.createGeneration('hello_world', { name: 'poll' });
    const polled = await client.waitFor(created, { ...WAIT, transport: 'poll', pollIntervalMs: 100 });
    expect(polled.status).toBe('completed');

    const slow = await client.createGeneration('ruby', {});
    const started = Date.now();
    const err = await client.waitFor(slow, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GptMarketError);
    expect((err as GptMarketError).code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5_000);

    const controller = new AbortController();
    const reason = new Error('the user left');
    setTimeout(() => controller.abort(reason), 100);
    await expect(client.waitFor(slow, { signal: controller.signal, transport: 'poll' })).rejects.toBe(reason);
    expect((await client.waitFor(slow, WAIT)).status).toBe('completed');
  }, 120_000);
});

describe('typed errors', () => {
  it('400 validation_failed with the paths of each issue', async () => {
    const err = await client
      // @ts-expect-error video_duration is a number in the contract
      .createGeneration('ruby', { video_duration: 'long', aspect_ratio: '5:5' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GptMarketError);
    const e = err as GptMarketError;
    expect(e.status).toBe(400);
    expect(e.code).toBe('validation_failed');
    expect(e.requestId).toMatch(/\S{8,}/);
    const paths = e.issues.map((i) => i.path);
    expect(paths).toContain('input.video_duration');
    expect(paths).toContain('input.aspect_ratio');
    expect(e.retryAfterSeconds).toBeNull();
  });

  it('400 unknown_type, 404 not_found, 400 for a malformed id', async () => {
    const unknown = (await client.createGeneration('no_such_type', { a: 1 }).catch((e: unknown) => e)) as GptMarketError;
    expect(unknown).toMatchObject({ status: 400, code: 'unknown_type' });
    const missing = (await client.getGeneration('gen_doesnotexist0000').catch((e: unknown) => e)) as GptMarketError;
    expect(missing).toBeInstanceOf(GptMarketError);
    expect(missing).toMatchObject({ status: 404, code: 'not_found', name: 'GptMarketError' });
    expect(missing.message).toContain('gen_doesnotexist0000');
    const malformed = (await client.getGeneration('../../health').catch((e: unknown) => e)) as GptMarketError;
    expect(malformed).toMatchObject({ status: 400, code: 'validation_failed' });
  });

  it('network_error when nothing listens', async () => {
    const port = await freePort();
    const dead = new GptMarketClient({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 0 });
    await expect(dead.health()).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });
});

describe('listing', () => {
  it.skipIf(!caps.cursor)('iterates every page with the cursor, newest first, filtered by type', async () => {
    const batch = randomBytes(4).toString('hex');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await client.createGeneration('hello_world', { name: `list ${i}` }, { metadata: { batch } })).id);
    const pageSizes: number[] = [];
    const wrapped = new GptMarketClient({
      baseUrl: stack.baseUrl,
      basicAuth: { username: USER, password: PASSWORD },
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        if (String(input).includes('/v1/generations?')) pageSizes.push(((await res.clone().json()) as { data: unknown[] }).data.length);
        return res;
      },
    });
    const seen: Generation[] = [];
    for await (const g of wrapped.iterateGenerations({ type: 'hello_world', limit: 2 })) seen.push(g);
    expect(seen.every((g) => g.type === 'hello_world')).toBe(true);
    const seenIds = seen.map((g) => g.id);
    expect(new Set(seenIds).size).toBe(seenIds.length);
    // The five just created are there, newest first.
    expect(seenIds.filter((id) => ids.includes(id))).toEqual([...ids].reverse());
    for (let i = 1; i < seen.length; i++) expect(seen[i - 1]!.created_at >= seen[i]!.created_at).toBe(true);
    expect(pageSizes.length).toBeGreaterThanOrEqual(3);
    expect(pageSizes.every((n) => n <= 2)).toBe(true);

    // Leaving the loop early stops fetching.
    const before = pageSizes.length;
    for await (const _ of wrapped.iterateGenerations({ type: 'hello_world', limit: 2 })) break;
    expect(pageSizes.length).toBe(before + 1);
  });

  it('one page with limit and status', async () => {
    const page = await client.listGenerations({ limit: 1, status: 'completed' });
    expect(page.data.length).toBeLessThanOrEqual(1);
    for (const g of page.data) expect(g.status).toBe('completed');
    await expect(client.listGenerations({ limit: 1000 })).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
  });
});

describe('server-sent events', () => {
  it.skipIf(!caps.sse)(
    'subscribe: progress events with ids, heartbeats, then the final event; the handle settles',
    async () => {
      const created = await client.createGeneration('ruby', { emotion: 'amazed' });
      const events: SseEvent[] = [];
      const progress: ProgressEvent[] = [];
      let heartbeats = 0;
      let completed: Generation | null = null;
      let finals = 0;
      const sub = client.subscribe(created.id, {
        onEvent: (e) => events.push(e),
        onProgress: (p) => progress.push(p),
        onHeartbeat: () => heartbeats++,
        onCompleted: (g) => (completed = g),
        onFinal: () => finals++,
        onError: (e) => {
          throw e;
        },
      });
      const result = await sub.done;
      expect(result.status).toBe('final');
      expect(completed).not.toBeNull();
      expect(completed!.status).toBe('completed');
      expect(finals).toBe(1);
      expect(events.at(-1)!.event).toBe('completed');
      expect(events.slice(0, -1).every((e) => e.event === 'progress')).toBe(true);
      const ids = events.map((e) => Number(e.id));
      expect(ids.every((n) => Number.isInteger(n))).toBe(true);
      for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!);
      expect(sub.lastEventId).toBe(events.at(-1)!.id);
      expect(progress.length).toBeGreaterThan(0);
      expect(heartbeats).toBeGreaterThan(0);
      expect(sub.signal.aborted).toBe(true);
      // A finished generation answers with its final event at once.
      const again = await client.subscribe(created.id, {}).done;
      expect(again).toMatchObject({ status: 'final', generation: { id: created.id, status: 'completed' } });
    },
    120_000,
  );

  it.skipIf(!caps.sse)(
    'a dropped connection is resumed with Last-Event-ID, without repeating events',
    async () => {
      // The first connection breaks right after its first event.
      const net = interceptEvents((res, connection) => (connection === 0 ? breakAfterFirstEvent(res) : res));
      const resuming = new GptMarketClient({ baseUrl: stack.baseUrl, basicAuth: { username: USER, password: PASSWORD }, fetch: net.fetch });
      const created = await client.createGeneration('ruby', {});
      const events: SseEvent[] = [];
      const reconnects: { attempt: number; lastEventId: string }[] = [];
      const sub = resuming.subscribe(
        created.id,
        { onEvent: (e) => events.push(e), onReconnect: (r) => reconnects.push(r) },
        { retryDelayMs: 50 },
      );
      const result = await sub.done;
      expect(result.status).toBe('final');
      expect(reconnects.length).toBeGreaterThanOrEqual(1);
      expect(net.requests.length).toBeGreaterThanOrEqual(2);
      expect(net.requests[0]!.lastEventId).toBeNull();
      expect(net.requests[1]!.lastEventId).toBe(events[0]!.id);
      const ids = events.map((e) => Number(e.id));
      expect(new Set(ids).size).toBe(ids.length);
      for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!);
      expect(events.at(-1)!.event).toBe('completed');
    },
    120_000,
  );

  it.skipIf(!caps.sse)(
    'a stalled connection is replaced after the idle timeout; unsubscribe stops at once',
    async () => {
      const net = interceptEvents((res, connection) => {
        if (connection > 0) return res;
        void res.body?.cancel();
        // Headers arrive, then nothing at all (a proxy that holds the stream).
        return new Response(new ReadableStream({ pull: () => new Promise(() => undefined) }), { status: 200, headers: res.headers });
      });
      const stalled = new GptMarketClient({ baseUrl: stack.baseUrl, basicAuth: { username: USER, password: PASSWORD }, fetch: net.fetch });
      const created = await client.createGeneration('hello_world', { name: 'idle' });
      const sub = stalled.subscribe(created.id, {}, { idleTimeoutMs: 400, retryDelayMs: 50 });
      const result = await sub.done;
      expect(result).toMatchObject({ status: 'final', generation: { status: 'completed' } });
      expect(net.requests.length).toBe(2);

      const slow = await client.createGeneration('ruby', {});
      const controller = new AbortController();
      const live = client.subscribe(slow.id, {}, { signal: controller.signal });
      setTimeout(() => controller.abort(), 200);
      expect(await live.done).toEqual({ status: 'unsubscribed' });
      const second = client.subscribe(slow.id, {});
      second.unsubscribe();
      second.unsubscribe();
      expect(await second.done).toEqual({ status: 'unsubscribed' });
      expect((await client.waitFor(slow, WAIT)).status).toBe('completed');
    },
    120_000,
  );

  it.skipIf(!caps.sse)(
    'waitFor falls back to polling when the stream is not an event stream; subscribe reports it',
    async () => {
      const net = interceptEvents(async (res) => {
        await res.body?.cancel();
        return new Response('<html>maintenance</html>', { status: 200, headers: { 'content-type': 'text/html' } });
      });
      const proxied = new GptMarketClient({ baseUrl: stack.baseUrl, basicAuth: { username: USER, password: PASSWORD }, fetch: net.fetch });
      const created = await client.createGeneration('hello_world', { name: 'fallback' });
      const done = await proxied.waitFor(created, { ...WAIT, pollIntervalMs: 100 });
      expect(done.status).toBe('completed');
      expect(net.requests.length).toBe(1);
      let reported: unknown;
      const result = await proxied.subscribe(created.id, { onError: (e) => (reported = e) }).done;
      expect(result.status).toBe('error');
      expect(reported).toMatchObject({ code: 'stream_unsupported' });
      await expect(proxied.waitFor(created, { transport: 'sse' })).rejects.toMatchObject({ code: 'stream_unsupported' });
    },
    60_000,
  );

  it.skipIf(!caps.sse)('subscribing to an unknown generation ends with not_found', async () => {
    let reported: unknown;
    const result = await client.subscribe('gen_doesnotexist0000', { onError: (e) => (reported = e) }).done;
    expect(result.status).toBe('error');
    expect(reported).toMatchObject({ status: 404, code: 'not_found' });
    await expect(client.waitFor('gen_doesnotexist0000', WAIT)).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });
});

describe('cancel and retry', () => {
  it.skipIf(!caps.cancel || !caps.retry)(
    'cancel a running generation, then retry it as a new one',
    async () => {
      const created = await client.createGeneration('ruby', { text_overlay: 'cancel me' });
      const accepted = await client.cancelGeneration<'ruby'>(created.id);
      expect(accepted.id).toBe(created.id);
      const done = await client.waitFor(created, WAIT);
      expect(done.status).toBe('cancelled');
      await expect(client.cancelGeneration(created.id)).rejects.toMatchObject({ status: 409, code: 'invalid_state' });

      const retried = await client.retryGeneration<'ruby'>(created.id);
      expect(retried.id).not.toBe(created.id);
      expect(retried.retry_of).toBe(created.id);
      expect(retried.input.text_overlay).toBe('cancel me');
      const finished = await client.waitFor(retried, WAIT);
      expect(finished.status).toBe('completed');
      await expect(client.retryGeneration(retried.id)).rejects.toMatchObject({ status: 409, code: 'invalid_state' });
    },
    150_000,
  );
});

describe('idempotency', () => {
  it.skipIf(!caps.idempotency)('the same key and body give the same generation; another body is a conflict', async () => {
    const key = `sdk-${randomBytes(6).toString('hex')}`;
    const a = await client.createGeneration('hello_world', { name: 'once' }, { idempotencyKey: key });
    const b = await client.createGeneration('hello_world', { name: 'once' }, { idempotencyKey: key });
    expect(b.id).toBe(a.id);
    const conflict = await client.createGeneration('hello_world', { name: 'twice' }, { idempotencyKey: key }).catch((e: unknown) => e);
    expect(conflict).toMatchObject({ status: 409, code: 'idempotency_conflict' });
  });
});

describe('authentication and rate limits', () => {
  it.skipIf(!caps.auth)('no or wrong credentials: 401 unauthorized; public endpoints stay open', async () => {
    const anonymous = new GptMarketClient({ baseUrl: stack.baseUrl, maxRetries: 0 });
    await expect(anonymous.generationTypes()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await anonymous.health()).toEqual({ status: 'ok' });
    const wrong = new GptMarketClient({ baseUrl: stack.baseUrl, basicAuth: { username: USER, password: 'nope' }, maxRetries: 0 });
    await expect(wrong.listGenerations()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    const badKey = new GptMarketClient({ baseUrl: stack.baseUrl, apiKey: 'gmk_not_a_key', maxRetries: 0 });
    await expect(badKey.listGenerations()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    // The stream refuses too (EventSource could not even send the header).
    const result = await anonymous.subscribe('gen_doesnotexist0000', {}).done;
    expect(result).toMatchObject({ status: 'error', error: { status: 401 } });
  });

  it.skipIf(!caps.apiKeys || !caps.rateLimit)(
    'an API key works as Bearer; past its rate limit: 429 with Retry-After, not retried beyond the cap',
    async () => {
      const out = await stack.gatewayCli(['keys', 'create', '--name', 'sdk limited', '--rate-limit', '3']);
      const apiKey = /key: (\S+)/.exec(out)?.[1];
      expect(apiKey, out).toBeTruthy();
      const keyed = new GptMarketClient({ baseUrl: stack.baseUrl, apiKey: apiKey!, maxRetries: 0 });
      const mine = await keyed.createGeneration('hello_world', { name: 'key' });
      expect((await keyed.getGeneration(mine.id)).id).toBe(mine.id);
      await keyed.listGenerations({ limit: 1 });
      const limited = (await keyed.listGenerations({ limit: 1 }).catch((e: unknown) => e)) as GptMarketError;
      expect(limited).toBeInstanceOf(GptMarketError);
      expect(limited).toMatchObject({ status: 429, code: 'rate_limited' });
      expect(limited.retryAfterSeconds).toBeGreaterThan(0);
      // With retries on, a Retry-After beyond maxRetryDelayMs is thrown at once rather than slept through.
      const patient = new GptMarketClient({ baseUrl: stack.baseUrl, apiKey: apiKey!, maxRetries: 3, maxRetryDelayMs: 500 });
      const started = Date.now();
      await expect(patient.listGenerations()).rejects.toMatchObject({ status: 429 });
      expect(Date.now() - started).toBeLessThan(3_000);
    },
  );
});

describe('in a browser', () => {
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  beforeAll(async () => {
    browser = await launchChromium(['--disable-sync']);
    page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(pageOrigin + '/');
    await page.waitForFunction(() => (globalThis as unknown as { sdkReady?: boolean }).sdkReady === true, undefined, { timeout: 15_000 });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });
  const run = (crossOrigin: boolean) =>
    page.evaluate((config) => (globalThis as unknown as { runSdk(c: unknown): Promise<Record<string, unknown>> }).runSdk(config), {
      baseUrl: stack.baseUrl,
      username: USER,
      password: PASSWORD,
      crossOrigin,
    });

  it('the esbuild bundle loads in Chromium and the SDK constructs, forms included', async () => {
    const local = await run(false);
    expect(local.constructed).toBe(true);
    expect(local.rubyFields).toContain('emotion');
    expect(local.rubyFields).not.toContain('secret_key');
    expect(pageErrors).toEqual([]);
  });

  it.skipIf(!caps.cors)(
    'calls the gateway cross-origin: health, catalogue, create, SSE with Authorization, typed errors',
    async () => {
      const remote = await run(true);
      expect(remote.health).toEqual({ status: 'ok' });
      expect(remote.types).toContain('ruby');
      expect(remote.done).toEqual({ status: 'completed', message: expect.stringContaining('Browser') });
      if (caps.sse) expect(remote.subscription, JSON.stringify(remote.subscription)).toMatchObject({ status: 'completed' });
      expect(remote.error).toMatchObject({ name: 'GptMarketError', status: 404, code: 'not_found', requestId: expect.any(String) });
      expect(pageErrors).toEqual([]);
    },
    90_000,
  );
});
