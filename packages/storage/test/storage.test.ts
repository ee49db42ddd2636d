import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// testkit is imported by path: it is a workspace sibling that storage does not list as a dependency.
import { startS3, type S3Server } from '../../testkit/src/index.js';
import {
  contentTypeForKey,
  createStorage,
  extensionForContentType,
  LocalStorage,
  makeKey,
  S3Storage,
  StorageError,
  warnIfOutputUrlsExpire,
} from '../src/index.js';
import type { StorageEnv } from '../src/config.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

function env(over: Partial<StorageEnv>): StorageEnv {
  return {
    LOCAL_STORAGE_DIR: undefined,
    PUBLIC_MEDIA_BASE_URL: undefined,
    S3_BUCKET: undefined,
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY: undefined,
    S3_SECRET_KEY: undefined,
    S3_ENDPOINT_URL: undefined,
    S3_PUBLIC_URL_BASE: undefined,
    S3_PUBLIC_READ: false,
    S3_FORCE_PATH_STYLE: false,
    R2_BUCKET: undefined,
    R2_ENDPOINT_URL: undefined,
    R2_ACCESS_KEY_ID: undefined,
    R2_SECRET_ACCESS_KEY: undefined,
    R2_PUBLIC_BASE_URL: undefined,
    STORAGE_PRESIGN_SECONDS: 3600,
    ...over,
  } as StorageEnv;
}

/** A proxy in front of s3rver that records each request (`METHOD path?query`, and its headers) and passes it on. */
async function recordingProxy(s3: S3Server): Promise<{ endpoint: string; calls: string[]; headers: IncomingHttpHeaders[]; close(): void }> {
  const calls: string[] = [];
  const headers: IncomingHttpHeaders[] = [];
  const target = new URL(s3.endpoint);
  const proxy = createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    headers.push(req.headers);
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, calls, headers, close: () => proxy.close() };
}

describe('keys and content types', () => {
  it('builds {folder}/{YYYY}/{MM}/{DD}/{id}.{ext} from the UTC date', () => {
    const key = makeKey('ruby/videos', 'mp4', new Date('2026-01-05T23:30:00-05:00'));
    expect(key).toMatch(/^ruby\/videos\/2026\/01\/06\/[0-9a-f]{12}\.mp4$/);
    expect(() => makeKey('../etc', 'mp4')).toThrow(StorageError);
    expect(() => makeKey('ok', 'mp4/x')).toThrow(StorageError);
  });
  it('maps content types both ways', () => {
    expect(extensionForContentType('video/mp4')).toBe('mp4');
    expect(extensionForContentType('image/jpeg; charset=binary')).toBe('jpg');
    expect(extensionForContentType('application/x-unknown')).toBe('bin');
    expect(contentTypeForKey('a/b.gif')).toBe('image/gif');
    expect(contentTypeForKey('a/b.m4a')).toBe('audio/mp4');
  });
});

describe('S3Storage against a real S3-protocol server (s3rver)', () => {
  let s3: S3Server;
  let storage: S3Storage;
  beforeAll(async () => {
    s3 = await startS3('media-test');
    storage = createStorage(
      env({
        S3_BUCKET: s3.bucket,
        S3_ACCESS_KEY: s3.accessKeyId,
        S3_SECRET_KEY: s3.secretAccessKey,
        S3_ENDPOINT_URL: s3.endpoint,
        S3_REGION: s3.region,
      }),
      { localPublicBaseUrl: 'http://unused' },
    ) as S3Storage;
    expect(storage.kind).toBe('s3');
    await storage.check();
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('stores a small body with its content type and reads it back through a presigned URL', async () => {
    const key = makeKey('tests/small', 'json');
    const stored = await storage.put(key, Buffer.from('{"a":1}'), { contentType: 'application/json' });
    expect(stored).toMatchObject({ key, content_type: 'application/json', size_bytes: 7 });
    expect(await storage.head(key)).toEqual({ contentType: 'application/json', size: 7 });
    // No public base: the URL handed out is presigned (the raw endpoint would not be readable).
    expect(stored.url).toContain('X-Amz-Signature=');
    const res = await fetch(stored.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"a":1}');
    expect(storage.keyFromUrl(stored.url)).toBe(key);
  });

  it('hands out the same presigned read URL within a signing window (an eighth of the lifetime), signed at its start', async () => {
    const key = makeKey('tests/stable', 'txt');
    const stored = await storage.put(key, Buffer.from('same'), { contentType: 'text/plain' });
    const again = await storage.url(key);
    expect(again).toBe(stored.url);
    const params = new URL(again).searchParams;
    expect(params.get('X-Amz-Expires')).toBe('3600');
    const [, y, mo, d, hh, mi, ss] = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(params.get('X-Amz-Date')!)!.map(Number);
    const signedAt = Date.UTC(y!, mo! - 1, d!, hh, mi, ss);
    expect(signedAt % 450_000).toBe(0);
    expect(Date.now() - signedAt).toBeLessThan(450_000);
    expect(await (await fetch(again)).text()).toBe('same');
    // Another key signs on its own; a short lifetime (no window) signs afresh on every read.
    expect(await storage.url(makeKey('tests/stable', 'txt'))).not.toBe(again);
    const short = new S3Storage({
      kind: 's3',
      bucket: s3.bucket,
      region: s3.region,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      endpoint: s3.endpoint,
      presignSeconds: 5,
    });
    const first = await short.url(key);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await short.url(key)).not.toBe(first);
  });

  it('streams a large body as a multipart upload (parts over 5 MB) and reads it back intact', async () => {
    // A recording proxy in front of s3rver shows which S3 calls the upload made.
    const proxy = await recordingProxy(s3);
    const calls = proxy.calls;
    try {
      const viaProxy = new S3Storage({
        kind: 's3',
        bucket: s3.bucket,
        region: s3.region,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        endpoint: proxy.endpoint,
        presignSeconds: 60,
      });
      const size = 17 * 1024 * 1024 + 123;
      const data = randomBytes(size);
      const key = makeKey('tests/large', 'mp4');
      // A stream of unknown length in 64 KiB chunks: nothing forces the whole body into one buffer.
      const body = Readable.from(
        (function* () {
          for (let i = 0; i < size; i += 65536) yield data.subarray(i, Math.min(size, i + 65536));
        })(),
      );
      const stored = await viaProxy.put(key, body, { contentType: 'video/mp4' });
      expect(stored.size_bytes).toBe(size);
      expect(calls.filter((c) => /^POST .*\?uploads/.test(c))).toHaveLength(1);
      expect(calls.filter((c) => /^PUT .*partNumber=\d+/.test(c))).toHaveLength(3);
      expect(calls.filter((c) => /^POST .*uploadId=/.test(c))).toHaveLength(1);
      const got = await storage.get(key);
      expect(got.contentType).toBe('video/mp4');
      expect(md5(await readAll(got.body))).toBe(md5(data));
    } finally {
      proxy.close();
    }
  }, 60_000);

  it('copies, deletes and reports missing objects', async () => {
    const src = makeKey('tests/copy', 'png');
    await storage.put(src, Buffer.from('png-bytes'), { contentType: 'image/png' });
    const dest = makeKey('tests/copied', 'png');
    const copied = await storage.copy(src, dest);
    expect(copied).toMatchObject({ key: dest, content_type: 'image/png', size_bytes: 9 });
    expect((await readAll((await storage.get(dest)).body)).toString()).toBe('png-bytes');
    await storage.delete(src);
    expect(await storage.head(src)).toBeNull();
    await expect(storage.get(src)).rejects.toMatchObject({ code: 'not_found' });
    await expect(storage.copy(src, makeKey('tests/x', 'png'))).rejects.toMatchObject({ code: 'not_found' });
    await expect(storage.put('../escape.mp4', Buffer.from('x'), { contentType: 'video/mp4' })).rejects.toMatchObject({ code: 'bad_key' });
  });

  it('presigns uploads: a PUT to the URL stores the object', async () => {
    const key = makeKey('uploads', 'txt');
    const url = await storage.presign(key, { method: 'PUT', expiresInSeconds: 300, contentType: 'text/plain' });
    expect(url).toContain('X-Amz-Expires=300');
    const res = await fetch(url, { method: 'PUT', body: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(200);
    expect((await readAll((await storage.get(key)).body)).toString()).toBe('hello');
  });

  it('uses the public base URL when one is configured, and recognises its own URLs', async () => {
    const pub = createStorage(
      env({
        S3_BUCKET: s3.bucket,
        S3_ACCESS_KEY: s3.accessKeyId,
        S3_SECRET_KEY: s3.secretAccessKey,
        S3_ENDPOINT_URL: s3.endpoint,
        S3_PUBLIC_URL_BASE: 'https://cdn.example.com/media/',
      }),
      { localPublicBaseUrl: 'http://unused' },
    );
    const key = makeKey('tests/public', 'gif');
    const stored = await pub.put(key, Buffer.from('GIF89a'), { contentType: 'image/gif' });
    expect(stored.url).toBe(`https://cdn.example.com/media/${key}`);
    expect(pub.keyFromUrl(stored.url)).toBe(key);
    expect(pub.keyFromUrl(`${s3.endpoint}/${s3.bucket}/${key}`)).toBe(key);
    expect(pub.keyFromUrl('https://cdn.example.com/media/../../etc/passwd')).toBeNull();
    expect(pub.keyFromUrl('https://evil.example.com/media/' + key)).toBeNull();
    // Presigned reads stay available even with a public base.
    const signed = await pub.presign(key, { expiresInSeconds: 60 });
    expect((await fetch(signed)).status).toBe(200);
  });

  it('with S3_PUBLIC_READ uploads public-read objects and hands out the standard bucket URL, readable without credentials', async () => {
    const proxy = await recordingProxy(s3);
    try {
      const pub = createStorage(
        env({
          S3_BUCKET: s3.bucket,
          S3_ACCESS_KEY: s3.accessKeyId,
          S3_SECRET_KEY: s3.secretAccessKey,
          S3_ENDPOINT_URL: `${proxy.endpoint}/`,
          S3_PUBLIC_READ: true,
        }),
        { localPublicBaseUrl: 'http://unused' },
      );
      expect(pub.urlExpirySeconds).toBeNull();
      const key = makeKey('tests/public-read', 'png');
      const stored = await pub.put(key, Buffer.from('png-bytes'), { contentType: 'image/png' });
      // As the Python system built it: {S3_ENDPOINT_URL}/{bucket}/{key}, unsigned.
      expect(stored.url).toBe(`${proxy.endpoint}/${s3.bucket}/${key}`);
      const copied = await pub.copy(key, makeKey('tests/public-read', 'png'));
      const writes = proxy.calls.map((c, i) => ({ c, acl: proxy.headers[i]!['x-amz-acl'] })).filter(({ c }) => c.startsWith('PUT '));
      expect(writes).toHaveLength(2); // the upload and the copy
      for (const w of writes) expect(w.acl, w.c).toBe('public-read');
      const res = await fetch(copied.url);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('png-bytes');
      expect(pub.keyFromUrl(copied.url)).toBe(copied.key);
      // Private storage sends no ACL at all.
      const before = proxy.calls.length;
      const priv = new S3Storage({
        kind: 's3',
        bucket: s3.bucket,
        region: s3.region,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        endpoint: proxy.endpoint,
        presignSeconds: 60,
      });
      await priv.put(makeKey('tests/private', 'png'), Buffer.from('x'), { contentType: 'image/png' });
      const privateWrite = proxy.calls.findIndex((c, i) => i >= before && c.startsWith('PUT '));
      expect(proxy.headers[privateWrite]!['x-amz-acl']).toBeUndefined();
    } finally {
      proxy.close();
    }
    // On AWS (no endpoint): the virtual-hosted bucket URL, which the storage also recognises as its own.
    const aws = new S3Storage({
      kind: 's3',
      bucket: 'media-bucket',
      region: 'eu-west-3',
      accessKeyId: 'a',
      secretAccessKey: 'b',
      publicRead: true,
      presignSeconds: 60,
    });
    const key = makeKey('ruby/videos', 'mp4');
    expect(await aws.url(key)).toBe(`https://media-bucket.s3.eu-west-3.amazonaws.com/${key}`);
    expect(aws.keyFromUrl(await aws.url(key))).toBe(key);
    // Path-style AWS URLs (S3_FORCE_PATH_STYLE without an endpoint) are ours too; another bucket's are not.
    const pathStyle = new S3Storage({
      kind: 's3',
      bucket: 'media-bucket',
      region: 'eu-west-3',
      accessKeyId: 'a',
      secretAccessKey: 'b',
      forcePathStyle: true,
      presignSeconds: 60,
    });
    const signed = await pathStyle.url(key);
    expect(new URL(signed).host).toBe('s3.eu-west-3.amazonaws.com');
    expect(pathStyle.keyFromUrl(signed)).toBe(key);
    expect(pathStyle.keyFromUrl(`https://s3.eu-west-3.amazonaws.com/other-bucket/${key}`)).toBeNull();
  });

  it('says how long its URLs live: the presign lifetime when private, null when public', () => {
    const s3Env = { S3_BUCKET: 'b', S3_ACCESS_KEY: 'a', S3_SECRET_KEY: 'c', S3_ENDPOINT_URL: s3.endpoint, STORAGE_PRESIGN_SECONDS: 120 };
    expect(createStorage(env(s3Env), { localPublicBaseUrl: 'x' }).urlExpirySeconds).toBe(120);
    expect(
      createStorage(env({ ...s3Env, S3_PUBLIC_URL_BASE: 'https://cdn.example.com' }), { localPublicBaseUrl: 'x' }).urlExpirySeconds,
    ).toBeNull();
    expect(createStorage(env({ ...s3Env, S3_PUBLIC_READ: true }), { localPublicBaseUrl: 'x' }).urlExpirySeconds).toBeNull();
    const r2Env = { R2_BUCKET: 'b', R2_ACCESS_KEY_ID: 'a', R2_SECRET_ACCESS_KEY: 'c', R2_ENDPOINT_URL: s3.endpoint };
    expect(createStorage(env(r2Env), { localPublicBaseUrl: 'x' }).urlExpirySeconds).toBe(3600);
    // S3_PUBLIC_READ is an S3 setting: R2 has no object ACLs, its public URLs come from R2_PUBLIC_BASE_URL.
    expect(createStorage(env({ ...r2Env, S3_PUBLIC_READ: true }), { localPublicBaseUrl: 'x' }).urlExpirySeconds).toBe(3600);
    expect(
      createStorage(env({ ...r2Env, R2_PUBLIC_BASE_URL: 'https://media.example.com' }), { localPublicBaseUrl: 'x' }).urlExpirySeconds,
    ).toBeNull();
    expect(createStorage(env({ LOCAL_STORAGE_DIR: tmpdir() }), { localPublicBaseUrl: 'x' }).urlExpirySeconds).toBeNull();
  });

  it('R2 without a public base hands out presigned URLs, not the unreadable API endpoint (a Python system defect, fixed)', async () => {
    const r2 = createStorage(
      env({
        R2_BUCKET: s3.bucket,
        R2_ACCESS_KEY_ID: s3.accessKeyId,
        R2_SECRET_ACCESS_KEY: s3.secretAccessKey,
        R2_ENDPOINT_URL: s3.endpoint,
      }),
      { localPublicBaseUrl: 'http://unused' },
    );
    expect(r2.kind).toBe('r2');
    const key = makeKey('tests/r2', 'mp4');
    const stored = await r2.put(key, Buffer.from('video'), { contentType: 'video/mp4' });
    expect(stored.url).not.toBe(`${s3.endpoint}/${s3.bucket}/${key}`);
    expect(stored.url).toContain('X-Amz-Signature=');
    expect(await (await fetch(stored.url)).text()).toBe('video');
    const withBase = createStorage(
      env({
        R2_BUCKET: s3.bucket,
        R2_ACCESS_KEY_ID: 'a',
        R2_SECRET_ACCESS_KEY: 'b',
        R2_ENDPOINT_URL: s3.endpoint,
        R2_PUBLIC_BASE_URL: 'https://media.example.com',
      }),
      { localPublicBaseUrl: 'http://unused' },
    );
    expect(await withBase.url(key)).toBe(`https://media.example.com/${key}`);
    expect(() =>
      createStorage(env({ R2_BUCKET: 'b', R2_ACCESS_KEY_ID: 'a', R2_SECRET_ACCESS_KEY: 'c' }), { localPublicBaseUrl: 'x' }),
    ).toThrow(/R2_ENDPOINT_URL/);
  });

  it('reports an unreachable bucket', async () => {
    const missing = new S3Storage({
      kind: 's3',
      bucket: 'no-such-bucket',
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      endpoint: s3.endpoint,
      presignSeconds: 60,
    });
    await expect(missing.check()).rejects.toMatchObject({ code: 'unavailable' });
  });
});

describe('warnIfOutputUrlsExpire', () => {
  const collect = () => {
    const lines: { level: string; msg: string }[] = [];
    const at = (level: string) => (msg: string) => void lines.push({ level, msg });
    return { lines, log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
  };
  const s3Env = {
    S3_BUCKET: 'b',
    S3_ACCESS_KEY: 'a',
    S3_SECRET_KEY: 'c',
    S3_ENDPOINT_URL: 'http://127.0.0.1:9',
    STORAGE_PRESIGN_SECONDS: 604800,
  };

  it('warns once in production when a private bucket makes workflow outputs expire, naming the lifetime and the fix', () => {
    const { lines, log } = collect();
    warnIfOutputUrlsExpire(createStorage(env(s3Env), { localPublicBaseUrl: 'x' }), { NODE_ENV: 'production' }, log);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('warn');
    expect(lines[0]!.msg).toMatch(/^!!! media URLs in workflow outputs EXPIRE within 7 day\(s\)/);
    expect(lines[0]!.msg).toContain('S3_PUBLIC_URL_BASE or S3_PUBLIC_READ=true');
    const r2 = collect();
    const r2Storage = createStorage(
      env({
        R2_BUCKET: 'b',
        R2_ACCESS_KEY_ID: 'a',
        R2_SECRET_ACCESS_KEY: 'c',
        R2_ENDPOINT_URL: 'http://127.0.0.1:9',
        STORAGE_PRESIGN_SECONDS: 7200,
      }),
      { localPublicBaseUrl: 'x' },
    );
    warnIfOutputUrlsExpire(r2Storage, { NODE_ENV: 'production' }, r2.log);
    expect(r2.lines.map((l) => l.msg)).toEqual([
      expect.stringMatching(/EXPIRE within 2 hour\(s\).*Set R2_PUBLIC_BASE_URL for permanent URLs/),
    ]);
    // The Python system's ENVIRONMENT=production counts like NODE_ENV=production.
    const python = collect();
    warnIfOutputUrlsExpire(
      createStorage(env(s3Env), { localPublicBaseUrl: 'x' }),
      { NODE_ENV: 'development', ENVIRONMENT: 'production' },
      python.log,
    );
    expect(python.lines).toHaveLength(1);
  });

  it('stays quiet outside production and when URLs are permanent', () => {
    const { lines, log } = collect();
    warnIfOutputUrlsExpire(createStorage(env(s3Env), { localPublicBaseUrl: 'x' }), { NODE_ENV: 'development' }, log);
    warnIfOutputUrlsExpire(
      createStorage(env({ ...s3Env, S3_PUBLIC_URL_BASE: 'https://cdn.example.com' }), { localPublicBaseUrl: 'x' }),
      { NODE_ENV: 'production' },
      log,
    );
    warnIfOutputUrlsExpire(
      createStorage(env({ ...s3Env, S3_PUBLIC_READ: true }), { localPublicBaseUrl: 'x' }),
      { NODE_ENV: 'production' },
      log,
    );
    warnIfOutputUrlsExpire(
      createStorage(env({ LOCAL_STORAGE_DIR: tmpdir() }), { localPublicBaseUrl: 'x' }),
      { NODE_ENV: 'production' },
      log,
    );
    expect(lines).toEqual([]);
  });
});

describe('LocalStorage', () => {
  it('keeps media in the data directory by default, relative paths from the checkout root, whatever the working directory', () => {
    const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
    const cwd = process.cwd();
    const saved = process.env.GPTMARKET_DATA_DIR;
    try {
      process.chdir(tmpdir());
      delete process.env.GPTMARKET_DATA_DIR;
      const dirOf = (over: Partial<StorageEnv>) => (createStorage(env(over), { localPublicBaseUrl: 'x' }) as LocalStorage).root;
      expect(dirOf({})).toBe(join(root, '.data', 'media'));
      expect(dirOf({ LOCAL_STORAGE_DIR: 'somewhere/media' })).toBe(join(root, 'somewhere', 'media'));
      process.env.GPTMARKET_DATA_DIR = '/srv/gptmarket';
      expect(dirOf({})).toBe('/srv/gptmarket/media');
    } finally {
      process.chdir(cwd);
      if (saved === undefined) delete process.env.GPTMARKET_DATA_DIR;
      else process.env.GPTMARKET_DATA_DIR = saved;
    }
  });

  it('writes atomically, serves under the public base and refuses to presign uploads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-storage-'));
    try {
      const storage = createStorage(env({ LOCAL_STORAGE_DIR: dir }), { localPublicBaseUrl: 'http://localhost:3000/media/' });
      expect(storage.kind).toBe('local');
      const key = makeKey('ruby/videos', 'mp4');
      const stored = await storage.put(key, Readable.from([Buffer.from('abc'), Buffer.from('def')]), { contentType: 'video/mp4' });
      expect(stored).toEqual({ key, url: `http://localhost:3000/media/${key}`, content_type: 'video/mp4', size_bytes: 6 });
      expect(storage.keyFromUrl(stored.url)).toBe(key);
      expect(await storage.presign(key)).toBe(stored.url);
      await expect(storage.presign(key, { method: 'PUT' })).rejects.toBeInstanceOf(StorageError);
      expect((await readAll((await storage.get(key)).body)).toString()).toBe('abcdef');
      expect((storage as LocalStorage).filePath(key)).toBe(join(dir, key));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
