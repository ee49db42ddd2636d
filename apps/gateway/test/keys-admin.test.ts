import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '@gptmarket/db';
import { createLogger } from '@gptmarket/runtime';
import { LocalStorage } from '@gptmarket/storage';
import { startPostgres, startTemporal, type PostgresCluster } from '@gptmarket/testkit';
import { buildApp, gatewayEnv, TemporalGateway, type App } from '../src/index.js';

/** The operators' key API (routes/keys.ts) on the real gateway app, real PostgreSQL and a Temporal dev server. */
let pg: PostgresCluster;
let temporal: Awaited<ReturnType<typeof startTemporal>>;
let mediaDir: string;
/** Every log line any gateway of this file wrote (debug level: request lines included). */
let logged = '';
const log = createLogger(
  'test',
  'debug',
  new Writable({
    write(chunk, _enc, done) {
      logged += String(chunk);
      done();
    },
  }),
);

beforeAll(async () => {
  [pg, temporal] = await Promise.all([startPostgres(), startTemporal()]);
  mediaDir = mkdtempSync(join(tmpdir(), 'gptmarket-keys-admin-'));
}, 120_000);
afterAll(async () => {
  await temporal?.teardown();
  await pg?.stop();
  if (mediaDir) rmSync(mediaDir, { recursive: true, force: true });
});

interface Gateway extends App {
  database: DatabaseHandle;
  call(method: string, path: string, body?: unknown, authorization?: string): Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

async function gateway(name: string, env: Record<string, string> = {}): Promise<Gateway> {
  const url = await pg.createDatabase(name);
  const database = await openDatabase({ url });
  const built = await buildApp({
    env: gatewayEnv.parse({
      DATABASE_URL: url,
      TEMPORAL_ADDRESS: temporal.address,
      LOCAL_STORAGE_DIR: mediaDir,
      WORKFLOW_SECRET_KEY: 's3cret',
      ...env,
    }),
    database,
    temporal: new TemporalGateway({ address: temporal.address, namespace: 'default' }),
    storage: new LocalStorage({ dir: mediaDir, publicBaseUrl: 'http://127.0.0.1/media' }),
    log,
    track: false,
  });
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(built.app.server.address() as AddressInfo).port}`;
  return {
    ...built,
    database,
    async call(method, path, body, authorization) {
      const headers: Record<string, string> = {};
      if (authorization) headers.authorization = authorization;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : null };
    },
    async close() {
      await built.app.close();
      await database.close();
    },
  };
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const KEY_FIELDS = [
  'budgets',
  'created_at',
  'daily_budget_usd',
  'id',
  'last_used_at',
  'monthly_budget_usd',
  'name',
  'prefix',
  'rate_limit',
  'revoked_at',
];

describe('an open gateway (development, no keys, no basic auth)', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await gateway('keys_admin_open');
  });
  afterAll(async () => gw?.close());

  it('lets anyone create the first key, which then closes the gateway; a key may not manage keys', async () => {
    expect(await gw.call('GET', '/v1/keys')).toEqual({ status: 200, json: { data: [] } });
    const created = await gw.call('POST', '/v1/keys', { name: 'first' });
    expect(created.status).toBe(201);
    expect(created.json.key).toMatch(/^gmk_[A-Za-z0-9]{40}$/);
    expect(created.json.prefix).toBe(created.json.key.slice(0, 10));

    // Closed now: anonymous calls get 401, the key works for generations and gets 403 on the admin API.
    expect((await gw.call('GET', '/v1/keys')).status).toBe(401);
    const bearer = `Bearer ${created.json.key}`;
    expect((await gw.call('GET', '/v1/generations', undefined, bearer)).status).toBe(200);
    for (const [method, path, body] of [
      ['GET', '/v1/keys'],
      ['POST', '/v1/keys', { name: 'second' }],
      ['PATCH', `/v1/keys/${created.json.id}`, { daily_budget_usd: 1 }],
      ['DELETE', `/v1/keys/${created.json.id}`],
    ] as const) {
      const refused = await gw.call(method, path, body, bearer);
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(refused.json.error).toMatchObject({
        code: 'forbidden',
        message: expect.stringMatching(/API keys cannot manage API keys.*basic auth/),
      });
    }
    expect((await gw.keys.list()).map((k) => k.name)).toEqual(['first']);
    expect((await gw.keys.get(created.json.id))?.revokedAt).toBeNull();
  });
});

describe('a gateway with basic auth', () => {
  const auth = basic('ops', 'correct horse');
  let gw: Gateway;
  beforeAll(async () => {
    gw = await gateway('keys_admin_basic', { BASIC_AUTH_USER: 'ops', BASIC_AUTH_PASSWORD: 'correct horse' });
  });
  afterAll(async () => gw?.close());

  it('creates, lists, budgets and revokes keys; the plain key is answered once and never stored or logged', async () => {
    expect((await gw.call('GET', '/v1/keys')).status).toBe(401);
    expect((await gw.call('GET', '/v1/keys', undefined, basic('ops', 'wrong'))).status).toBe(401);

    const created = await gw.call('POST', '/v1/keys', { name: 'web app', rate_limit: 300, daily_budget_usd: 5 }, auth);
    expect(created.status).toBe(201);
    const { key, ...shown } = created.json;
    expect(Object.keys(shown).sort()).toEqual(KEY_FIELDS);
    expect(shown).toMatchObject({ name: 'web app', rate_limit: 300, daily_budget_usd: 5, monthly_budget_usd: null, revoked_at: null });
    expect(shown.budgets).toEqual([{ window: 'day', limit_usd: 5, spent_usd: 0, resets_at: expect.stringMatching(/T00:00:00\.000Z$/) }]);

    // The key works; the database holds its hash only; no log line carries it.
    expect((await gw.call('GET', '/v1/generations', undefined, `Bearer ${key}`)).status).toBe(200);
    const dump = await gw.database.db.execute(sql`select row_to_json(k)::text as row from api_keys k`);
    const rows = JSON.stringify((dump as unknown as { rows: unknown[] }).rows ?? dump);
    expect(rows).toContain(shown.id);
    expect(rows).not.toContain(key);
    expect(logged).toContain('/v1/keys'); // the requests were logged...
    expect(logged).not.toContain(key); // ...without the key

    const listed = await gw.call('GET', '/v1/keys', undefined, auth);
    expect(listed.status).toBe(200);
    expect(listed.json.data).toEqual([{ ...shown, last_used_at: expect.any(String) }]); // it was just used
    expect(JSON.stringify(listed.json)).not.toContain(key.slice(10));

    const budgeted = await gw.call('PATCH', `/v1/keys/${shown.id}`, { daily_budget_usd: null, monthly_budget_usd: 200 }, auth);
    expect(budgeted.status).toBe(200);
    expect(budgeted.json).toMatchObject({ daily_budget_usd: null, monthly_budget_usd: 200 });
    expect(budgeted.json.budgets).toEqual([
      { window: 'month', limit_usd: 200, spent_usd: 0, resets_at: expect.stringMatching(/-01T00:00:00\.000Z$/) },
    ]);
    // A budget left out stays as it is.
    expect((await gw.call('PATCH', `/v1/keys/${shown.id}`, { daily_budget_usd: 2.5 }, auth)).json).toMatchObject({
      daily_budget_usd: 2.5,
      monthly_budget_usd: 200,
    });

    // Used just before (so this gateway remembers it): revoking here takes effect at once.
    expect((await gw.call('GET', '/v1/generations', undefined, `Bearer ${key}`)).status).toBe(200);
    const revoked = await gw.call('DELETE', `/v1/keys/${shown.id}`, undefined, auth);
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ id: shown.id, revoked_at: expect.any(String) });
    expect((await gw.call('GET', '/v1/generations', undefined, `Bearer ${key}`)).status).toBe(401);
    // Revoking again answers the key as it is.
    expect(await gw.call('DELETE', `/v1/keys/${shown.id}`, undefined, auth)).toEqual(revoked);
  });

  it('refuses bad bodies with the contract messages, and unknown ids with 404', async () => {
    const issue = async (method: string, path: string, body: unknown) => {
      const res = await gw.call(method, path, body, auth);
      expect(res.status, JSON.stringify(res.json)).toBe(400);
      expect(res.json.error.code).toBe('validation_failed');
      return res.json.error.details;
    };
    expect(await issue('POST', '/v1/keys', { name: 'bad/name' })).toEqual([
      { path: 'name', message: 'must be 1–64 letters, digits, spaces, _ . or -' },
    ]);
    expect(await issue('POST', '/v1/keys', { name: 'x', rate_limit: 0 })).toEqual([
      { path: 'rate_limit', message: 'must be a whole number of requests per window, from 1 to 1000000' },
    ]);
    expect(await issue('POST', '/v1/keys', { name: 'x', monthly_budget_usd: -1 })).toEqual([
      { path: 'monthly_budget_usd', message: 'must be an amount of USD from 0 to 1000000000 (e.g. 25 or 2.50)' },
    ]);
    expect(await issue('POST', '/v1/keys', { name: 'x', key: 'gmk_chosen' })).toEqual([
      { path: '(root)', message: expect.stringMatching(/key/) },
    ]);
    const { json: created } = await gw.call('POST', '/v1/keys', { name: 'x' }, auth);
    expect(await issue('PATCH', `/v1/keys/${created.id}`, {})).toEqual([
      { path: '(root)', message: 'name a budget to set: daily_budget_usd or monthly_budget_usd (USD, or null for none)' },
    ]);
    expect(await issue('PATCH', '/v1/keys/not-a-key', { daily_budget_usd: 1 })).toEqual([
      { path: 'params.id', message: 'is not an API key id' },
    ]);
    for (const [method, body] of [
      ['PATCH', { daily_budget_usd: 1 }],
      ['DELETE', undefined],
    ] as const) {
      const missing = await gw.call(method, '/v1/keys/key_doesNotExist00', body, auth);
      expect(missing.status).toBe(404);
      expect(missing.json.error).toMatchObject({ code: 'not_found', message: 'no API key key_doesNotExist00' });
    }
    // Nothing was created by the refused requests.
    expect((await gw.keys.list()).map((k) => k.name).sort()).toEqual(['web app', 'x']);
  });
});
