import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import type { Generation } from '@gptmarket/contracts';
import { generations, openDatabase, type DatabaseHandle } from '@gptmarket/db';
import { createLogger } from '@gptmarket/runtime';
import { S3Storage } from '@gptmarket/storage';
import { freePort, spawnService, startS3, type S3Server, type ServiceProcess } from '@gptmarket/testkit';
import { startHarness, workflowBundle, type Harness } from '../../generation-worker/test/harness.js';
import { buildApp, gatewayEnv, TemporalGateway, type App } from '../src/index.js';
import { storageKeysIn, withFreshUrls } from '../src/services/media-urls.js';

/**
 * Records keep storage keys and hand out fresh URLs: a private bucket (s3rver, which enforces presigned expiry)
 * with a 3-second presign lifetime, real workers and the gateway in-process.
 */
const PRESIGN_SECONDS = 3;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const URL_FIELDS = ['face_image_url', 'raw_video_url', 'final_video_url', 'final_video_poster_url', 'final_video_preview_url'];

let s3: S3Server;
let storage: S3Storage;
let h: Harness;
let database: DatabaseHandle;
let gw: App;

beforeAll(async () => {
  s3 = await startS3('gateway-media');
  storage = new S3Storage({
    kind: 's3',
    bucket: s3.bucket,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    endpoint: s3.endpoint,
    presignSeconds: PRESIGN_SECONDS,
  });
  h = await startHarness({ storage });
  database = await openDatabase();
  gw = await buildApp({
    env: gatewayEnv.parse({ TEMPORAL_ADDRESS: h.temporal.address, WORKFLOW_SECRET_KEY: 'media-urls-secret' }),
    database,
    temporal: new TemporalGateway({ address: h.temporal.address, namespace: 'default' }),
    storage,
    log: createLogger('test', 'error'),
    track: false,
  });
}, 180_000);
afterAll(async () => {
  await gw?.app.close();
  await database?.close();
  await h?.stop();
  await s3?.stop();
});

const get = async (path: string) => {
  const res = await gw.app.inject({ method: 'GET', url: path });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};
const bytesOf = async (key: string) => {
  const chunks: Buffer[] = [];
  for await (const c of (await storage.get(key)).body) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
};

describe('media URLs of a private bucket', () => {
  let done: Generation;
  let keys: Record<string, string>;
  let original: Record<string, string>;

  beforeAll(async () => {
    const created = await gw.app.inject({
      method: 'POST',
      url: '/v1/generations',
      payload: { type: 'ruby', input: { emotion: 'shocked', text_overlay: 'still here' } },
    });
    expect(created.statusCode, created.body).toBe(202);
    const id = created.json().id as string;
    const deadline = Date.now() + 150_000;
    for (;;) {
      done = await get(`/v1/generations/${id}`);
      if (['completed', 'failed', 'cancelled'].includes(done.status)) break;
      if (Date.now() > deadline) throw new Error(`${id} is still ${done.status}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(done.status, JSON.stringify(done.error)).toBe('completed');
    const [row] = await database.db.select().from(generations).where(eq(generations.id, id));
    keys = row!.outputKeys!;
    original = row!.output as Record<string, string>;
  }, 180_000);

  it('keeps the storage key of every media URL in the record, next to the output the workflow returned', () => {
    expect(Object.keys(keys).sort()).toEqual(URL_FIELDS.map((f) => `/${f}`).sort());
    expect(keys['/final_video_url']).toMatch(/^[a-z/]+\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{12}\.mp4$/);
    for (const f of URL_FIELDS) {
      // The workflow's own URLs: presigned with the short lifetime, for the same key.
      expect(original[f]).toContain(`X-Amz-Expires=${PRESIGN_SECONDS}`);
      expect(storage.keyFromUrl(original[f]!)).toBe(keys[`/${f}`]);
    }
  });

  it('downloads a generation fetched after the URLs the workflow returned have expired', async () => {
    // Wait until the bucket refuses the workflow's URL (s3rver checks X-Amz-Date + X-Amz-Expires).
    const deadline = Date.now() + (PRESIGN_SECONDS + 10) * 1000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      status = (await fetch(original.final_video_url!)).status;
    }
    expect(status).toBe(403);

    const fresh = (await get(`/v1/generations/${done.id}`)) as Generation;
    const out = fresh.output as Record<string, string>;
    for (const f of URL_FIELDS) {
      expect(out[f], f).not.toBe(original[f]);
      expect(out[f]).toContain('X-Amz-Signature=');
      const res = await fetch(out[f]!);
      expect(res.status, f).toBe(200);
      expect(md5(Buffer.from(await res.arrayBuffer())), f).toBe(md5(await bytesOf(keys[`/${f}`]!)));
    }
    // Everything else is the workflow's output as returned.
    expect({ ...out, ...Object.fromEntries(URL_FIELDS.map((f) => [f, ''])) }).toEqual({
      ...original,
      ...Object.fromEntries(URL_FIELDS.map((f) => [f, ''])),
    });

    // The list serves the same fresh URLs.
    const listed = (await get('/v1/generations?limit=5')).data.find((g: Generation) => g.id === done.id) as Generation;
    expect((await fetch((listed.output as Record<string, string>).final_video_url!)).status).toBe(200);
  }, 60_000);

  it('reads keys off the URLs of records that have none, and never takes a foreign URL for its own', async () => {
    const foreign = {
      lookalike: `http://203.0.113.9:${new URL(s3.endpoint).port}/${s3.bucket}/${keys['/final_video_url']}`,
      other_bucket: `${s3.endpoint}/another-bucket/${keys['/final_video_url']}`,
      failed_uploads: [{ image_url: 'https://i.pinimg.com/originals/ab/cd/ef.jpg', error: 'too large' }],
    };
    await database.db
      .update(generations)
      .set({ output: { ...original, ...foreign }, outputKeys: null })
      .where(eq(generations.id, done.id));
    // Finished records never change, so the gateway keeps their answers until their URLs are due for renewal (an
    // eighth of the presign lifetime): a record rewritten behind its back, as here, is read again after that.
    await new Promise((r) => setTimeout(r, (PRESIGN_SECONDS * 1000) / 8 + 100));
    const out = (await get(`/v1/generations/${done.id}`)).output as Record<string, unknown>;
    expect(out.lookalike).toBe(foreign.lookalike);
    expect(out.other_bucket).toBe(foreign.other_bucket);
    expect(out.failed_uploads).toEqual(foreign.failed_uploads);
    expect(out.final_video_url).not.toBe(original.final_video_url);
    expect((await fetch(out.final_video_url as string)).status).toBe(200);
  });
});

describe('storage keys by JSON Pointer', () => {
  it('finds our URLs at any depth, escapes "~" and "/" in names, and puts fresh URLs back only where strings were', async () => {
    const own = (key: string) => `${s3.endpoint}/${s3.bucket}/${key}`;
    const value = {
      images: [{ image_url: own('pinterest/images/2026/01/02/aaaaaaaaaaaa.jpg') }, { image_url: 'https://example.com/x.jpg' }],
      'a/b~c': own('voice/2026/01/02/bbbbbbbbbbbb.mp3'),
      n: 3,
    };
    const keys = storageKeysIn(value, storage);
    expect(keys).toEqual({
      '/images/0/image_url': 'pinterest/images/2026/01/02/aaaaaaaaaaaa.jpg',
      '/a~1b~0c': 'voice/2026/01/02/bbbbbbbbbbbb.mp3',
    });
    const fresh = await withFreshUrls(
      value,
      { ...keys, '/n': 'voice/2026/01/02/cccccccccccc.mp3', '/missing/0': 'voice/2026/01/02/dddddddddddd.mp3' },
      storage,
    );
    expect(fresh.images[0]!.image_url).toMatch(new RegExp(`^${own('pinterest/images/2026/01/02/aaaaaaaaaaaa.jpg')}\\?X-Amz-`));
    expect(fresh['a/b~c']).toContain('X-Amz-Signature=');
    expect(fresh.images[1]).toEqual({ image_url: 'https://example.com/x.jpg' });
    expect(fresh.n).toBe(3);
    expect(fresh).not.toHaveProperty('missing');
    expect(value.images[0]!.image_url).toBe(own('pinterest/images/2026/01/02/aaaaaaaaaaaa.jpg')); // the input is untouched
  });
});

describe('a production start with a private bucket', () => {
  const repo = resolve(import.meta.dirname, '../../..');
  const running: ServiceProcess[] = [];
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-warning-'));
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('says once, at start, that the workflow outputs will expire (gateway and generation worker)', async () => {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: h.temporal.address,
      TEMPORAL_TASK_QUEUE: `warning-${process.pid}`,
      WORKFLOW_SECRET_KEY: 'warning-test-secret-0123456789abcdef',
      S3_BUCKET: s3.bucket,
      S3_ACCESS_KEY: s3.accessKeyId,
      S3_SECRET_KEY: s3.secretAccessKey,
      S3_ENDPOINT_URL: s3.endpoint,
      STORAGE_PRESIGN_SECONDS: String(3 * 3600),
    };
    const tsx = (app: string) => ['--import', 'tsx', '--conditions=@gptmarket/source', join(repo, 'apps', app, 'src/main.ts')];
    const port = await freePort();
    const gateway = spawnService(
      'gateway',
      process.execPath,
      tsx('gateway'),
      {
        ...env,
        PORT: String(port),
        PGLITE_DIR: join(dir, 'pglite'),
        BASIC_AUTH_USER: 'ops',
        BASIC_AUTH_PASSWORD: 'warning-test-password-0123456789',
        GATEWAY_WEBHOOK_WORKER: 'false',
      },
      repo,
    );
    // The bundle the harness built already, as the image ships one: the worker starts without webpack.
    const bundlePath = join(dir, 'workflow-bundle.js');
    writeFileSync(bundlePath, (await workflowBundle()).code);
    const worker = spawnService(
      'generation-worker',
      process.execPath,
      tsx('generation-worker'),
      { ...env, WORKFLOW_BUNDLE_PATH: bundlePath, ALLOW_OFFLINE_PROVIDERS: 'true' },
      repo,
    );
    running.push(gateway, worker);
    await Promise.all([gateway.waitForOutput(/gateway ready/, 90_000), worker.waitForOutput(/generation-worker ready/, 150_000)]);
    for (const p of [gateway, worker]) {
      const warned = p
        .output()
        .split('\n')
        .filter((line) => line.includes('media URLs in workflow outputs EXPIRE'));
      expect(warned, p.name).toHaveLength(1);
      expect(JSON.parse(warned[0]!)).toMatchObject({
        level: 'warn',
        msg: expect.stringContaining('EXPIRE within 3 hour(s)'),
        presignSeconds: 3 * 3600,
      });
    }
  }, 180_000);
});
