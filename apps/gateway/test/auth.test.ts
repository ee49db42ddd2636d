import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createServer, get as httpGet, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '@gptmarket/db';
import { createLogger } from '@gptmarket/runtime';
import { LocalStorage } from '@gptmarket/storage';
import { startPostgres, startTemporal, type PostgresCluster } from '@gptmarket/testkit';
import { buildApp, gatewayEnv, runCli, TemporalGateway, type App } from '../src/index.js';
import { KEY_CACHE_MS } from '../src/services/api-keys.js';

let pg: PostgresCluster;
let temporal: Awaited<ReturnType<typeof startTemporal>>;
let mediaDir: string;
const log = createLogger('test', 'error');

beforeAll(async () => {
  [pg, temporal] = await Promise.all([startPostgres(), startTemporal()]);
  mediaDir = mkdtempSync(join(tmpdir(), 'gptmarket-auth-'));
}, 120_000);
afterAll(async () => {
  await temporal?.teardown();
  await pg?.stop();
  if (mediaDir) rmSync(mediaDir, { recursive: true, force: true });
});

interface Harness extends App {
  database: DatabaseHandle;
  url: string;
  close(): Promise<void>;
}
/** The gateway app in-process on a fresh database (of the shared cluster unless another is given). */
async function harness(
  name: string,
  env: Record<string, string> = {},
  opts: { cluster?: PostgresCluster; temporalAddress?: string } = {},
): Promise<Harness> {
  const url = await (opts.cluster ?? pg).createDatabase(name);
  const temporalAddress = opts.temporalAddress ?? temporal.address;
  const parsed = gatewayEnv.parse({
    DATABASE_URL: url,
    TEMPORAL_ADDRESS: temporalAddress,
    LOCAL_STORAGE_DIR: mediaDir,
    WORKFLOW_SECRET_KEY: 's3cret',
    ...env,
  });
  const database = await openDatabase({ url });
  const built = await buildApp({
    env: parsed,
    database,
    temporal: new TemporalGateway({ address: temporalAddress, namespace: 'default' }),
    storage: new LocalStorage({ dir: mediaDir, publicBaseUrl: 'http://127.0.0.1/media' }),
    log,
    track: false,
  });
  return {
    ...built,
    database,
    url,
    async close() {
      await built.app.close();
      await database.close().catch(() => {}); // some tests close or lose it on purpose
    },
  };
}
const cli = async (url: string, args: string[]) => {
  const lines: string[] = [];
  const prev = process.env.DATABASE_URL;
  process.env.DATABASE_URL = url;
  try {
    const code = await runCli(args, (l) => lines.push(l));
    return { code, out: lines.join('\n') };
  } finally {
    if (prev === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = prev;
  }
};
const hello = { type: 'hello_world', input: { name: 'Auth' } };

describe('authentication', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness('auth_keys');
  });
  afterAll(async () => h?.close());

  it('runs open outside production while no auth method exists, then requires a key once one is created', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/v1/generations' })).statusCode).toBe(200);
    const created = await cli(h.url, ['keys', 'create', '--name', 'web app', '--rate-limit', '1000']);
    expect(created.code).toBe(0);
    const key = /key: (gmk_\w+)/.exec(created.out)?.[1];
    expect(key).toBeDefined();
    expect(created.out).toMatch(/shown only once/);
    await new Promise((r) => setTimeout(r, 5_100)); // the active-key count is cached for 5 s

    const none = await h.app.inject({ method: 'GET', url: '/v1/generations' });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('unauthorized');
    expect(none.headers['www-authenticate']).toMatch(/Bearer/);
    // One character off (a key that already ends in X must not be "changed" into itself).
    const wrongKey = `${key!.slice(0, -1)}${key!.endsWith('X') ? 'Y' : 'X'}`;
    const wrong = await h.app.inject({ method: 'GET', url: '/v1/generations', headers: { authorization: `Bearer ${wrongKey}` } });
    expect(wrong.statusCode).toBe(401);
    const ok = await h.app.inject({ method: 'GET', url: '/v1/generations', headers: { authorization: `Bearer ${key}` } });
    expect(ok.statusCode).toBe(200);
    // public endpoints stay public
    expect((await h.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);

    const listed = await cli(h.url, ['keys', 'list']);
    expect(listed.out).toContain('web app');
    expect(listed.out).not.toContain(key!); // only the prefix is ever shown again
    const id = /^(key_\w+)/m.exec(listed.out)?.[1];
    expect((await cli(h.url, ['keys', 'revoke', id!])).code).toBe(0);
    // Revoked by another process: this gateway trusts the key it authenticated for at most KEY_CACHE_MS more.
    await new Promise((r) => setTimeout(r, KEY_CACHE_MS));
    const revoked = await h.app.inject({ method: 'GET', url: '/v1/generations', headers: { authorization: `Bearer ${key}` } });
    expect(revoked.statusCode).toBe(401);
    // only hashes are stored
    const rows = await h.database.db.execute('select hash, prefix from api_keys' as never);
    expect(JSON.stringify(rows)).not.toContain(key!);
  }, 60_000);

  it('an API key sees only its own generations', async () => {
    const a = await h.keys.create('a');
    const b = await h.keys.create('b');
    const created = await h.app.inject({
      method: 'POST',
      url: '/v1/generations',
      headers: { authorization: `Bearer ${a.key}` },
      payload: hello,
    });
    expect(created.statusCode).toBe(202);
    const id = created.json().id;
    expect(
      (await h.app.inject({ method: 'GET', url: `/v1/generations/${id}`, headers: { authorization: `Bearer ${a.key}` } })).statusCode,
    ).toBe(200);
    const other = await h.app.inject({ method: 'GET', url: `/v1/generations/${id}`, headers: { authorization: `Bearer ${b.key}` } });
    expect(other.statusCode).toBe(404);
    const list = await h.app.inject({ method: 'GET', url: '/v1/generations', headers: { authorization: `Bearer ${b.key}` } });
    expect(list.json().data).toEqual([]);
  });

  it('refuses malformed Authorization headers', async () => {
    for (const authorization of ['Token abc', 'Bearer', 'Basic !!!', `Bearer ${'x'.repeat(300)}`]) {
      expect((await h.app.inject({ method: 'GET', url: '/v1/generations', headers: { authorization } })).statusCode).toBe(401);
    }
  });
});

describe('basic auth', () => {
  it('accepts the configured user and password, nothing else', async () => {
    const h = await harness('auth_basic', { BASIC_AUTH_USER: 'admin', BASIC_AUTH_PASSWORD: 'correct horse' });
    try {
      const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
      expect((await h.app.inject({ method: 'GET', url: '/v1/generations' })).statusCode).toBe(401);
      expect(
        (await h.app.inject({ method: 'GET', url: '/v1/generations', headers: { authorization: basic('admin', 'wrong') } })).statusCode,
      ).toBe(401);
      const ok = await h.app.inject({ method: 'GET', url: '/v1/generations', headers: { authorization: basic('admin', 'correct horse') } });
      expect(ok.statusCode).toBe(200);
      // basic-auth callers get the authenticated budget, not the anonymous one
      expect(ok.headers['x-ratelimit-limit']).toBe('120');
    } finally {
      await h.close();
    }
  });
});

describe('rate limits', () => {
  it('limits each key by its own limit, with Retry-After and x-ratelimit headers', async () => {
    const h = await harness('rate_keys', { RATE_LIMIT_MAX: '100' });
    try {
      const { key } = await h.keys.create('tight', 3);
      const { key: roomy } = await h.keys.create('roomy');
      const get = (k: string) => h.app.inject({ method: 'GET', url: '/v1/generations', headers: { authorization: `Bearer ${k}` } });
      const first = await get(key);
      expect(first.headers['x-ratelimit-limit']).toBe('3');
      expect(first.headers['x-ratelimit-remaining']).toBe('2');
      await get(key);
      await get(key);
      const limited = await get(key);
      expect(limited.statusCode).toBe(429);
      expect(limited.json().error.code).toBe('rate_limited');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.headers['x-ratelimit-reset']).toBeDefined();
      // another key is unaffected and carries the default limit
      const other = await get(roomy);
      expect(other.statusCode).toBe(200);
      expect(other.headers['x-ratelimit-limit']).toBe('100');
    } finally {
      await h.close();
    }
  });

  it('limits unauthenticated callers per IP, 404s included', async () => {
    const h = await harness('rate_anon', { RATE_LIMIT_ANON_MAX: '4' });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 6; i++)
        codes.push((await h.app.inject({ method: 'GET', url: `/nope/${i}`, remoteAddress: '203.0.113.7' })).statusCode);
      expect(codes).toEqual([404, 404, 404, 404, 429, 429]);
      // a different IP has its own budget; health is never limited
      expect((await h.app.inject({ method: 'GET', url: '/v1/generations', remoteAddress: '203.0.113.8' })).statusCode).toBe(200);
      for (let i = 0; i < 10; i++)
        expect((await h.app.inject({ method: 'GET', url: '/health', remoteAddress: '203.0.113.7' })).statusCode).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('locks out a bad credential repeated from one address, and nothing else: valid keys from that address always pass', async () => {
    const h = await harness('rate_failures', { RATE_LIMIT_AUTH_FAILURES_MAX: '3' });
    try {
      const { key } = await h.keys.create('exists');
      const from = (remoteAddress: string, authorization?: string) =>
        h.app.inject({ method: 'GET', url: '/v1/generations', remoteAddress, headers: authorization ? { authorization } : {} });
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await from('198.51.100.9', 'Bearer gmk_guess')).statusCode);
      expect(codes).toEqual([401, 401, 401, 429, 429]);
      const locked = await from('198.51.100.9', 'Bearer gmk_guess');
      expect(locked.json().error.code).toBe('rate_limited');
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      // Behind a proxy every client shares this address: a valid key from it passes, every time.
      for (let i = 0; i < 3; i++) expect((await from('198.51.100.9', `Bearer ${key}`)).statusCode).toBe(200);
      // Another credential from that address, and that credential from another address, are counted on their own.
      expect((await from('198.51.100.9', 'Bearer gmk_other')).statusCode).toBe(401);
      expect((await from('198.51.100.10', 'Bearer gmk_guess')).statusCode).toBe(401);
      // A caller without credentials is told to authenticate, not locked out.
      expect((await from('198.51.100.9')).statusCode).toBe(401);
    } finally {
      await h.close();
    }
  });

  it('a locked-out address still passes with the correct basic-auth password', async () => {
    const h = await harness('rate_failures_basic', {
      BASIC_AUTH_USER: 'admin',
      BASIC_AUTH_PASSWORD: 'correct horse',
      RATE_LIMIT_AUTH_FAILURES_MAX: '2',
    });
    try {
      const basic = (p: string) => `Basic ${Buffer.from(`admin:${p}`).toString('base64')}`;
      const from = (authorization: string) =>
        h.app.inject({ method: 'GET', url: '/v1/generations', remoteAddress: '198.51.100.20', headers: { authorization } });
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await from(basic('wrong'))).statusCode);
      expect(codes).toEqual([401, 401, 429, 429]);
      expect((await from(basic('correct horse'))).statusCode).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('bounds guessing many different passwords from one address; a password proven from it keeps passing, and so do valid keys', async () => {
    const h = await harness('rate_guessing', {
      BASIC_AUTH_USER: 'admin',
      BASIC_AUTH_PASSWORD: 'correct horse',
      RATE_LIMIT_AUTH_FAILURES_MAX: '2',
    });
    try {
      const { key } = await h.keys.create('exists');
      const basic = (p: string) => `Basic ${Buffer.from(`admin:${p}`).toString('base64')}`;
      const from = (remoteAddress: string, authorization: string) =>
        h.app.inject({ method: 'GET', url: '/v1/generations', remoteAddress, headers: { authorization } });
      // A colleague behind the same address signed in before the attack started.
      expect((await from('198.51.100.25', basic('correct horse'))).statusCode).toBe(200);
      // Distinct guesses: each is new, so only the address budget (10 x 2 failures per window) stops them.
      const codes: number[] = [];
      for (let i = 0; i < 24; i++) codes.push((await from('198.51.100.25', basic(`guess-${i}`))).statusCode);
      expect(codes.slice(0, 20)).toEqual(Array(20).fill(401));
      expect(codes.slice(20)).toEqual([429, 429, 429, 429]);
      const refused = await from('198.51.100.25', basic('guess-final'));
      expect(refused.json().error.message).toMatch(/from this address/);
      // The proven password and any valid key still pass from that address; other addresses are not affected.
      expect((await from('198.51.100.25', basic('correct horse'))).statusCode).toBe(200);
      expect((await from('198.51.100.25', `Bearer ${key}`)).statusCode).toBe(200);
      expect((await from('198.51.100.26', basic('guess-0'))).statusCode).toBe(401);
    } finally {
      await h.close();
    }
  });

  it("never locks out an open API's anonymous callers", async () => {
    const h = await harness('rate_failures_open', { RATE_LIMIT_AUTH_FAILURES_MAX: '2' });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) {
        codes.push(
          (
            await h.app.inject({
              method: 'GET',
              url: '/v1/generations',
              remoteAddress: '198.51.100.30',
              headers: { authorization: 'Bearer gmk_stale' },
            })
          ).statusCode,
        );
      }
      expect(codes).toEqual([401, 401, 429, 429, 429]);
      expect((await h.app.inject({ method: 'GET', url: '/v1/generations', remoteAddress: '198.51.100.30' })).statusCode).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('RATE_LIMIT_ENABLED=false turns the lockout off too', async () => {
    const h = await harness('rate_failures_off', { RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_AUTH_FAILURES_MAX: '2' });
    try {
      const { key } = await h.keys.create('exists');
      const from = (authorization: string) =>
        h.app.inject({ method: 'GET', url: '/v1/generations', remoteAddress: '198.51.100.40', headers: { authorization } });
      const codes: number[] = [];
      for (let i = 0; i < 6; i++) codes.push((await from('Bearer gmk_guess')).statusCode);
      expect(codes).toEqual([401, 401, 401, 401, 401, 401]);
      const ok = await from(`Bearer ${key}`);
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['x-ratelimit-limit']).toBeUndefined();
    } finally {
      await h.close();
    }
  });
});

describe('client addresses behind a proxy', () => {
  /** GET /v1/generations from a given local address (127.0.0.x: every one is loopback on Linux), optionally claiming another. */
  const call = (base: string, localAddress: string, forwardedFor?: string) =>
    new Promise<number>((done, fail) => {
      const req = httpGet(
        `${base}/v1/generations`,
        { localAddress, agent: false, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} },
        (res) => {
          res.resume();
          done(res.statusCode!);
        },
      );
      req.on('error', fail);
    });

  it('behind one proxy hop each client has its own per-IP budget, and a forged X-Forwarded-For dodges nothing', async () => {
    const h = await harness('proxy_one_hop', { TRUST_PROXY_HOPS: '1', RATE_LIMIT_ANON_MAX: '3' });
    const gateway = await h.app.listen({ host: '127.0.0.1', port: 0 });
    // A reverse proxy in front, as Dokploy's Traefik is: it adds the address it saw to X-Forwarded-For. (Traefik
    // drops what an untrusted client sent first; this one keeps it, the harder case.)
    const proxy = createServer((req, res) => {
      const forwarded = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
      const upstream = httpRequest(
        `${gateway}${req.url}`,
        { method: req.method, agent: false, headers: { ...req.headers, 'x-forwarded-for': forwarded } },
        (r) => {
          res.writeHead(r.statusCode!, r.headers);
          r.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const viaProxy = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push(await call(viaProxy, '127.0.0.2', `198.51.100.${i}`));
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      // Another client behind the same proxy is not throttled with the first: the gateway sees real addresses.
      expect(await call(viaProxy, '127.0.0.3')).toBe(200);
      // A client reaching the gateway around the proxy from a public address cannot claim addresses either.
      const direct: number[] = [];
      for (let i = 0; i < 5; i++) {
        direct.push(
          (
            await h.app.inject({
              method: 'GET',
              url: '/v1/generations',
              remoteAddress: '8.8.4.4',
              headers: { 'x-forwarded-for': `198.51.100.${i}` },
            })
          ).statusCode,
        );
      }
      expect(direct).toEqual([200, 200, 200, 429, 429]);
    } finally {
      proxy.close();
      await h.close();
    }
  });

  it('without a proxy (TRUST_PROXY_HOPS=0) X-Forwarded-For is ignored', async () => {
    const h = await harness('proxy_none', { RATE_LIMIT_ANON_MAX: '3' });
    const gateway = await h.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push(await call(gateway, '127.0.0.4', `198.51.100.${i}`));
      expect(codes).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await h.close();
    }
  });
});

describe('the production rule', () => {
  // ENVIRONMENT is the Python system's name for the stage; its "production" counts like NODE_ENV's.
  it.each([
    ['NODE_ENV=production', { NODE_ENV: 'production' }],
    ['ENVIRONMENT=production', { ENVIRONMENT: 'production' }],
  ])(
    'refuses to start with %s and no auth method',
    async (label, stage) => {
      const url = await pg.createDatabase(`prod_rule_${label.split('=')[0]!.toLowerCase()}`);
      const repo = resolve(import.meta.dirname, '../../..');
      const res = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--conditions=@gptmarket/source', join(repo, 'apps/gateway/src/main.ts')],
        {
          env: {
            PATH: process.env.PATH,
            ...stage,
            DATABASE_URL: url,
            TEMPORAL_ADDRESS: temporal.address,
            PORT: '0',
            LOCAL_STORAGE_DIR: mediaDir,
            WORKFLOW_SECRET_KEY: 'x',
          },
          encoding: 'utf8',
          timeout: 60_000,
          cwd: repo,
        },
      );
      expect(res.status).toBe(78);
      expect(res.stdout + res.stderr).toMatch(/refusing to start: no authentication configured/);
    },
    90_000,
  );

  it('with ENVIRONMENT=production an anonymous call is refused although no key exists', async () => {
    const open = await harness('stage_local', { ENVIRONMENT: 'local' });
    const prod = await harness('stage_production', { ENVIRONMENT: 'production' });
    try {
      expect((await open.app.inject({ method: 'GET', url: '/v1/generations' })).statusCode).toBe(200);
      expect((await prod.app.inject({ method: 'GET', url: '/v1/generations' })).statusCode).toBe(401);
    } finally {
      await open.close();
      await prod.close();
    }
  });

  it('refuses an ENVIRONMENT the Python system did not know', () => {
    expect(() => gatewayEnv.parse({ ENVIRONMENT: 'prod' })).toThrow(/expected one of local, staging, production, testing/);
  });
});

describe('when a dependency is down', () => {
  it('/ready turns 503 naming Temporal, and a start is a 503 that records nothing', async () => {
    const h = await harness('deps_down', {}, { temporalAddress: '127.0.0.1:1' });
    const { app, database } = h;
    try {
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(503);
      // Which workers and providers serve is read through Temporal: unknown while it is down.
      expect(ready.json()).toMatchObject({
        status: 'unavailable',
        checks: { temporal: 'down', database: 'ok', storage: 'ok' },
        workers: null,
        providers: null,
      });
      expect(JSON.stringify(ready.json())).not.toMatch(/key|secret/i);
      const start = await app.inject({ method: 'POST', url: '/v1/generations', payload: hello });
      expect(start.statusCode).toBe(503);
      expect(start.json().error.code).toBe('unavailable');
      expect((await app.inject({ method: 'GET', url: '/v1/generations' })).json().data).toEqual([]);
      // the database going away is a 503 too
      await database.close();
      const ready2 = await app.inject({ method: 'GET', url: '/ready' });
      expect(ready2.json().checks.database).toBe('down');
      const list = await app.inject({ method: 'GET', url: '/v1/generations' });
      expect(list.statusCode).toBe(503);
      expect(list.json().error.code).toBe('unavailable');
    } finally {
      await h.close();
    }
  }, 60_000);

  it('a PostgreSQL server that goes away mid-flight is a 503, not a 500', async () => {
    const cluster = await startPostgres();
    const h = await harness('goes_away', {}, { cluster });
    const { app } = h;
    try {
      expect((await app.inject({ method: 'GET', url: '/v1/generations' })).statusCode).toBe(200);
      await cluster.stop();
      // A page this gateway has not served yet: the one above may still come from the list cache (250 ms).
      const res = await app.inject({ method: 'GET', url: '/v1/generations?limit=7' });
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toMatchObject({ code: 'unavailable' });
      const start = await app.inject({ method: 'POST', url: '/v1/generations', payload: hello });
      expect(start.statusCode).toBe(503);
    } finally {
      await h.close();
      await cluster.stop();
    }
  }, 60_000);
});
