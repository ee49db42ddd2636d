import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '@gptmarket/db';
import {
  freePort,
  spawnApp,
  startPostgres,
  startRedis,
  startTemporal,
  waitFor,
  type PostgresCluster,
  type RedisServer,
  type ServiceProcess,
} from '@gptmarket/testkit';
import { ApiKeyService } from '../src/services/api-keys.js';
import { readSse } from './helpers.js';

/**
 * Two gateway processes sharing one PostgreSQL database and one Redis, as docker-compose.prod.yml runs them:
 * shared limits, progress on any replica, one leader at a time (with failover), one webhook delivery per event.
 * TRACKER_INTERVAL_MS is long, so only pushed changes can arrive in time.
 */
let temporal: Awaited<ReturnType<typeof startTemporal>>;
let pg: PostgresCluster;
let redis: RedisServer;
let env: NodeJS.ProcessEnv;
let mediaDir: string;
const gateways: Record<'a' | 'b', { url: string; proc: ServiceProcess }> = {} as never;
const workers: ServiceProcess[] = [];
let key: string;
let limitedKey: string;
const LEADER = /now runs the tracker and webhook dispatch/;

const startGateway = async (name: 'a' | 'b') => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawnApp('gateway', { ...env, PORT: String(port), GATEWAY_PUBLIC_URL: url }, `gateway-${name}`);
  await proc.waitForOutput(/gateway ready/, 60_000);
  gateways[name] = { url, proc };
};

const call = async (base: string, method: string, path: string, body?: unknown, token = key) => {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.json().catch(() => null)) as any };
};

beforeAll(async () => {
  [temporal, pg, redis] = await Promise.all([startTemporal(), startPostgres(), startRedis()]);
  const databaseUrl = await pg.createDatabase('gateway_replicas');
  mediaDir = mkdtempSync(join(tmpdir(), 'gptmarket-media-'));
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    TEMPORAL_ADDRESS: temporal.address,
    WORKFLOW_SECRET_KEY: randomBytes(24).toString('hex'),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    LOCAL_STORAGE_DIR: mediaDir,
    WEBHOOK_SIGNING_SECRET: 'whsec_replicas_0123456789',
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    RATE_LIMIT_AUTH_FAILURES_MAX: '4',
    TRACKER_INTERVAL_MS: '60000',
  };
  // The first gateway migrates the database and takes the lead; the second starts as a follower.
  await startGateway('a');
  await gateways.a.proc.waitForOutput(LEADER, 10_000);
  const database = await openDatabase({ url: databaseUrl, migrate: false });
  const keys = new ApiKeyService(database.db);
  key = (await keys.create('replicas')).key;
  limitedKey = (await keys.create('limited', 6)).key;
  await database.close();
  await startGateway('b');
}, 180_000);

afterAll(async () => {
  await Promise.all([...workers, ...Object.values(gateways).map((g) => g.proc)].map((p) => p.stop()));
  await temporal?.teardown();
  await Promise.all([pg?.stop(), redis?.stop()]);
  if (mediaDir) rmSync(mediaDir, { recursive: true, force: true });
});

describe('two gateway replicas', () => {
  it('share one leader: the second replica follows', () => {
    expect(gateways.a.proc.output()).toMatch(LEADER);
    expect(gateways.b.proc.output()).not.toMatch(LEADER);
  });

  it('share rate limits through Redis: a limit of N across both replicas is N', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const base = i % 2 === 0 ? gateways.a.url : gateways.b.url;
      statuses.push((await call(base, 'GET', '/v1/generations?limit=1', undefined, limitedKey)).status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(6);
    expect(statuses.slice(6).every((s) => s === 429)).toBe(true);
  });

  it('share failed-login counters: the lockout counts attempts on both replicas', async () => {
    const wrong = `gm_${randomBytes(32).toString('base64url')}`;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const base = i % 2 === 0 ? gateways.a.url : gateways.b.url;
      statuses.push((await call(base, 'GET', '/v1/generations', undefined, wrong)).status);
    }
    // RATE_LIMIT_AUTH_FAILURES_MAX=4: four 401s in all, then 429s on whichever replica.
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    // The valid key is not locked out.
    expect((await call(gateways.b.url, 'GET', '/v1/generations')).status).toBe(200);
  });

  it('pushes steps and completion to a listener on the follower for a generation created on the leader', async () => {
    // No worker yet: the generation waits, and the listener on B can only learn of its steps from A.
    const { status, json: gen } = await call(gateways.a.url, 'POST', '/v1/generations', { type: 'ruby', input: { text_overlay: 'two' } });
    expect(status).toBe(202);
    const stream = readSse(`${gateways.b.url}/v1/generations/${gen.id}/events`, {
      headers: { authorization: `Bearer ${key}` },
      timeoutMs: 150_000,
    });
    for (const app of ['generation-worker', 'media-worker'] as const) workers.push(spawnApp(app, env));
    await Promise.all([
      workers[0]!.waitForOutput(/generation-worker ready/, 120_000),
      workers[1]!.waitForOutput(/media-worker ready/, 60_000),
    ]);
    const { events } = await stream;
    const last = events[events.length - 1]!;
    expect(last.event).toBe('completed');
    expect(JSON.parse(last.data)).toMatchObject({ id: gen.id, status: 'completed' });
    const steps = new Set(
      events
        .filter((e) => e.event === 'progress')
        .map((e) => (JSON.parse(e.data) as { current_step: { step_id: string } | null }).current_step?.step_id),
    );
    steps.delete(undefined);
    expect(steps.size).toBeGreaterThanOrEqual(3);
  }, 200_000);

  it('delivers completion to the follower within a second of the workflow closing', async () => {
    const lags: number[] = [];
    const totals: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      const { json: gen } = await call(gateways.a.url, 'POST', '/v1/generations', { type: 'hello_world', input: { name: `lag ${i}` } });
      const { events } = await readSse(`${gateways.b.url}/v1/generations/${gen.id}/events`, {
        headers: { authorization: `Bearer ${key}` },
        timeoutMs: 30_000,
      });
      const last = events[events.length - 1]!;
      expect(last.event).toBe('completed');
      const { closeTime } = await temporal.client.workflow.getHandle(gen.workflow_id).describe();
      lags.push(last.at - closeTime!.getTime());
      totals.push(last.at - t0);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `HelloWorld on A, SSE on B: POST → completed median ${median(totals)} ms; workflow close → completed median ${median(lags)} ms`,
    );
    for (const lag of lags) expect(lag).toBeLessThan(1_000);
  }, 60_000);

  it('delivers each webhook once, whichever replica created the generation', async () => {
    const received: string[] = [];
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push(String(req.headers['webhook-id']));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    try {
      const ids: string[] = [];
      for (const g of [gateways.a, gateways.b, gateways.a, gateways.b]) {
        const { json } = await call(g.url, 'POST', '/v1/generations', { type: 'hello_world', input: {}, webhook_url: hook });
        ids.push(json.id);
      }
      await waitFor('every webhook', async () => received.length >= ids.length, { timeoutMs: 30_000 });
      await new Promise((r) => setTimeout(r, 2_000)); // room for a duplicate to show up
      expect(received.sort()).toEqual(ids.map((id) => `whd_${id.slice(4)}_completed`).sort());
    } finally {
      server.close();
    }
  }, 60_000);

  it('fails over: when the leader is killed the follower takes the lead and tracks new generations', async () => {
    gateways.a.proc.child.kill('SIGKILL');
    await gateways.b.proc.waitForOutput(LEADER, 15_000);
    const { json: gen } = await call(gateways.b.url, 'POST', '/v1/generations', { type: 'hello_world', input: { name: 'after' } });
    // Nobody reads it: the new leader's push writes the record.
    await waitFor(
      'the record to complete',
      async () => (await call(gateways.b.url, 'GET', '/v1/generations?limit=1')).json.data[0]?.status === 'completed',
      {
        timeoutMs: 10_000,
      },
    );
    expect((await call(gateways.b.url, 'GET', '/v1/generations?limit=1')).json.data[0].id).toBe(gen.id);
  }, 40_000);

  it('says so when Redis is lost, and keeps serving (rate limits fail open)', async () => {
    await redis.stop();
    await gateways.b.proc.waitForOutput(/Redis at 127\.0\.0\.1:\d+ is unreachable/, 10_000);
    expect((await call(gateways.b.url, 'GET', '/v1/generations?limit=1')).status).toBe(200);
    // Failed logins still get locked out, counted by this replica alone.
    const wrong = `gm_${randomBytes(32).toString('base64url')}`;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call(gateways.b.url, 'GET', '/v1/generations', undefined, wrong)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
  }, 30_000);
});
