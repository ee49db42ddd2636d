import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import type { Generation } from '@gptmarket/contracts';
import { generations, openDatabase, type DatabaseHandle, type NewGenerationRow } from '@gptmarket/db';
import { createLogger } from '@gptmarket/runtime';
import { freePort } from '@gptmarket/testkit';
import { buildApp, gatewayEnv, TemporalGateway, type App } from '../src/index.js';
import { unreachableBucket } from './helpers.js';

/**
 * Reads of generation records: ETag/304, the in-process cache of finished generations (owner only, never past its
 * media URLs' safe lifetime) and keyset pagination. The gateway in-process on PGlite, records written to the
 * database as the tracker writes them; a private bucket whose URLs are presigned locally (nothing is downloaded).
 * Temporal is not running: nothing here starts a workflow, and a running record is served as last observed.
 */
const PRESIGN_SECONDS = 3600;
let database: DatabaseHandle;
let gw: App;
let keyA: string;
let keyB: string;
let seq = 0;

beforeAll(async () => {
  database = await openDatabase();
  const storage = unreachableBucket(PRESIGN_SECONDS);
  gw = await buildApp({
    env: gatewayEnv.parse({ TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, RATE_LIMIT_ENABLED: 'false' }),
    database,
    temporal: new TemporalGateway({ address: `127.0.0.1:${await freePort()}`, namespace: 'default' }),
    storage,
    log: createLogger('test', 'error'),
    track: false,
  });
  keyA = (await gw.keys.create('reader a')).key;
  keyB = (await gw.keys.create('reader b')).key;
}, 60_000);
afterAll(async () => {
  await gw?.app.close();
  await database?.close();
});
afterEach(() => void vi.useRealTimers());

const keyIdOf = async (key: string) => (await gw.keys.authenticate(key))!.id;
const VIDEO_KEY = 'ruby/videos/2026/01/02/0123456789ab.mp4';

/** A record as the tracker leaves it: completed with a media URL and its storage key, or as given. */
async function insert(apiKey: string, fields: Partial<NewGenerationRow> = {}) {
  const id = `gen_reads${String(++seq).padStart(8, '0')}`;
  const [row] = await database.db
    .insert(generations)
    .values({
      id,
      type: 'ruby',
      workflowType: 'RubyWorkflow',
      workflowId: `ruby-${id}`,
      status: 'completed',
      input: { emotion: 'shocked' },
      output: { final_video_url: `http://127.0.0.1:9/media/${VIDEO_KEY}?X-Amz-Expires=60` },
      outputKeys: { '/final_video_url': VIDEO_KEY },
      apiKeyId: await keyIdOf(apiKey),
      completedAt: new Date(),
      ...fields,
    })
    .returning();
  return row!;
}

const get = (url: string, key: string, headers: Record<string, string> = {}) =>
  gw.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}`, ...headers } });

describe('ETag and If-None-Match', () => {
  it('answers 304 with the same ETag when the caller has the current answer, 200 otherwise', async () => {
    const row = await insert(keyA);
    const first = await get(`/v1/generations/${row.id}`, keyA);
    expect(first.statusCode).toBe(200);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(first.json().output.final_video_url).toContain('X-Amz-Signature=');

    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const again = await get(`/v1/generations/${row.id}`, keyA, { 'if-none-match': ifNoneMatch });
      expect(again.statusCode, ifNoneMatch).toBe(304);
      expect(again.body).toBe('');
      expect(again.headers.etag).toBe(etag);
    }
    const stale = await get(`/v1/generations/${row.id}`, keyA, { 'if-none-match': '"not-this-one"' });
    expect(stale.statusCode).toBe(200);
    expect(stale.body).toBe(first.body);
    expect(stale.headers.etag).toBe(etag);
  });

  it('gives a running generation a new ETag when what it shows changes', async () => {
    const row = await insert(keyA, { status: 'running', output: null, outputKeys: null, completedAt: null });
    const first = await get(`/v1/generations/${row.id}`, keyA);
    expect(first.statusCode).toBe(200);
    const etag = first.headers.etag as string;
    expect((await get(`/v1/generations/${row.id}`, keyA, { 'if-none-match': etag })).statusCode).toBe(304);

    // The tracker records a step: the old ETag no longer matches.
    await database.db
      .update(generations)
      .set({
        currentStep: { step_id: 'face', step_name: 'Face image', status: 'running', progress_pct: 40, message: null },
        revision: row.revision + 1,
        updatedAt: new Date(),
      })
      .where(eq(generations.id, row.id));
    const next = await get(`/v1/generations/${row.id}`, keyA, { 'if-none-match': etag });
    expect(next.statusCode).toBe(200);
    expect(next.json().current_step).toMatchObject({ step_id: 'face' });
    expect(next.headers.etag).not.toBe(etag);
  });
});

describe('the cache of finished generations', () => {
  it('serves them without reading the record again, and only to their owner', async () => {
    const row = await insert(keyA, { metadata: { order: 'first' } });
    const first = await get(`/v1/generations/${row.id}`, keyA);
    expect(first.json().metadata).toEqual({ order: 'first' });

    // Finished records never change; changing one behind the gateway's back shows the answer comes from memory.
    await database.db
      .update(generations)
      .set({ metadata: { order: 'changed' } })
      .where(eq(generations.id, row.id));
    const cached = await get(`/v1/generations/${row.id}`, keyA);
    expect(cached.body).toBe(first.body);

    // Another key: a 404 exactly like an unknown id, also when it presents the owner's ETag.
    for (const headers of [{}, { 'if-none-match': first.headers.etag as string }] as Record<string, string>[]) {
      const other = await get(`/v1/generations/${row.id}`, keyB, headers);
      expect(other.statusCode).toBe(404);
      expect(other.json().error.code).toBe('not_found');
      expect(other.body).not.toContain('first');
    }
    const list = await get('/v1/generations?limit=100', keyB);
    expect(list.json().data.map((g: Generation) => g.id)).not.toContain(row.id);
    const mine = await get('/v1/generations?limit=100', keyA);
    expect(mine.json().data.find((g: Generation) => g.id === row.id)).toEqual(first.json());
  });

  it('never serves a presigned URL with less than 3/4 of its lifetime left', async () => {
    const row = await insert(keyA);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const seen = new Set<string>();
    // Two and a half URL lifetimes in 1-minute steps: every answer's URL must have most of its lifetime left.
    for (let minute = 0; minute < 150; minute++) {
      const res = await get(`/v1/generations/${row.id}`, keyA);
      expect(res.statusCode).toBe(200);
      const url = new URL(res.json().output.final_video_url);
      const d = url.searchParams.get('X-Amz-Date')!;
      const signedAt = Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +d.slice(9, 11), +d.slice(11, 13), +d.slice(13, 15));
      const expiresAt = signedAt + Number(url.searchParams.get('X-Amz-Expires')) * 1000;
      expect(expiresAt - Date.now(), `minute ${minute}`).toBeGreaterThanOrEqual(0.75 * PRESIGN_SECONDS * 1000);
      seen.add(url.href);
      vi.setSystemTime(Date.now() + 60_000);
    }
    expect(seen.size).toBeGreaterThan(2); // re-signed as time went on
  });

  it('keeps finished generations without expiring URLs for as long as there is room', async () => {
    const row = await insert(keyA, {
      output: { message: 'Hello' },
      outputKeys: {},
      type: 'hello_world',
      workflowType: 'HelloWorldWorkflow',
    });
    const first = await get(`/v1/generations/${row.id}`, keyA);
    await database.db
      .update(generations)
      .set({ metadata: { changed: true } })
      .where(eq(generations.id, row.id));
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 30 * 24 * 3600 * 1000 });
    expect((await get(`/v1/generations/${row.id}`, keyA)).body).toBe(first.body);
  });
});

describe('list pages', () => {
  it('are kept in memory briefly: a generation written by another gateway shows within 250 ms', async () => {
    const before = await get('/v1/generations?type=elsewhere', keyA);
    expect(before.json().data).toEqual([]);
    // Written behind this gateway's back (another replica's tracker, say): no change reached this process.
    const row = await insert(keyA, { type: 'elsewhere' });
    await new Promise((r) => setTimeout(r, 300));
    const after = await get('/v1/generations?type=elsewhere', keyA);
    expect(after.json().data.map((g: Generation) => g.id)).toEqual([row.id]);
  });
});

describe('keyset pagination', () => {
  const pageThrough = async (key: string, limit: number, between?: () => Promise<void>) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/v1/generations?type=pages&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, key);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json();
      expect(page.data.length).toBeLessThanOrEqual(limit);
      ids.push(...page.data.map((g: Generation) => g.id));
      cursor = page.next_cursor;
      await between?.();
    } while (cursor);
    return ids;
  };

  it('pages newest first, then by id, through rows of the same instant without skipping or repeating one', async () => {
    const keyId = await keyIdOf(keyA);
    const rows: Array<{ id: string; at: string }> = [];
    // Rows created within one millisecond (as now() gives them under load, microseconds apart), one earlier, one later.
    const instants = ['2026-01-02T03:04:05.123401Z', '2026-01-02T03:04:05.123402Z', '2026-01-02T03:04:05.123999Z'];
    for (let i = 0; i < 9; i++) rows.push({ id: `gen_same${String(i).padStart(10, '0')}`, at: instants[i % 3]! });
    rows.push({ id: 'gen_early000000000', at: '2026-01-02T03:04:05.122Z' }, { id: 'gen_late0000000000', at: '2026-01-02T03:04:05.126Z' });
    for (const r of rows) {
      await database.db.execute(sql`insert into generations (id, type, workflow_type, workflow_id, status, input, api_key_id, created_at)
        values (${r.id}, 'pages', 'HelloWorldWorkflow', ${`hw-${r.id}`}, 'completed', '{}'::jsonb, ${keyId}, ${r.at}::timestamptz)`);
    }
    const expected = (await get('/v1/generations?type=pages&limit=100', keyA)).json().data as Generation[];
    expect(expected.map((g) => g.id)).toHaveLength(rows.length);
    const sorted = [...expected].sort((a, b) => (b.created_at + b.id).localeCompare(a.created_at + a.id));
    expect(expected.map((g) => g.id)).toEqual(sorted.map((g) => g.id));
    expect(expected[0]!.id).toBe('gen_late0000000000');
    expect(expected.at(-1)!.id).toBe('gen_early000000000');

    for (const limit of [1, 2, 4]) expect(await pageThrough(keyA, limit)).toEqual(expected.map((g) => g.id));

    // Generations created while a client pages are newer than its cursor: its pages neither shift nor repeat.
    let extra = 0;
    const during = await pageThrough(keyA, 3, async () => {
      await insert(keyA, { type: 'pages', id: `gen_during${String(++extra).padStart(8, '0')}` });
    });
    expect(during).toEqual(expected.map((g) => g.id));
  });

  it('accepts cursors in the format it has always handed out, and refuses others', async () => {
    const all = (await get('/v1/generations?type=pages&limit=100', keyA)).json().data as Generation[];
    const fifth = all[4]!;
    const cursor = Buffer.from(`${fifth.created_at}|${fifth.id}`, 'utf8').toString('base64url');
    const res = await get(`/v1/generations?type=pages&limit=100&cursor=${cursor}`, keyA);
    expect(res.statusCode).toBe(200);
    expect(res.json().data.map((g: Generation) => g.id)).toEqual(all.slice(5).map((g) => g.id));
    for (const bad of ['bm9wZQ', Buffer.from('yesterday|gen_x1').toString('base64url')]) {
      expect((await get(`/v1/generations?cursor=${bad}`, keyA)).statusCode).toBe(400);
    }
  });
});
