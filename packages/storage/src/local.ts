import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat, writeFile, access } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { assertSafeKey, contentTypeForKey } from './keys.js';
import { StorageError, type ObjectInfo, type PutOptions, type Storage, type StoredObject } from './types.js';

/** Files in a local directory, served by the gateway under `/media/` (the embedded default). */
export class LocalStorage implements Storage {
  readonly kind = 'local' as const;
  /** The gateway serves the files under /media for as long as they exist. */
  readonly urlExpirySeconds = null;
  readonly root: string;
  private readonly base: string;

  constructor(opts: { dir: string; publicBaseUrl: string }) {
    this.root = resolve(opts.dir);
    this.base = opts.publicBaseUrl.replace(/\/+$/, '');
  }

  private path(key: string): string {
    return join(this.root, assertSafeKey(key));
  }

  async put(key: string, body: Readable | Buffer | Uint8Array | string, opts: PutOptions): Promise<StoredObject> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    // Write beside the target and rename, so a reader never sees half a file.
    const tmp = `${path}.${randomBytes(4).toString('hex')}.partial`;
    try {
      if (body instanceof Readable) await pipeline(body, createWriteStream(tmp));
      else await writeFile(tmp, body);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    const { size } = await stat(path);
    return { key, url: await this.url(key), content_type: opts.contentType, size_bytes: size };
  }

  async get(key: string): Promise<{ body: Readable } & ObjectInfo> {
    const info = await this.head(key);
    if (!info) throw new StorageError(`object not found: ${key}`, 'not_found');
    return { body: createReadStream(this.path(key)), ...info };
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const s = await stat(this.path(key));
      return s.isFile() ? { size: s.size, contentType: contentTypeForKey(key) } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async copy(sourceKey: string, destKey: string): Promise<StoredObject> {
    const info = await this.head(sourceKey);
    if (!info) throw new StorageError(`object not found: ${sourceKey}`, 'not_found');
    const dest = this.path(destKey);
    await mkdir(dirname(dest), { recursive: true });
    await copyFile(this.path(sourceKey), dest);
    return { key: destKey, url: await this.url(destKey), content_type: contentTypeForKey(destKey), size_bytes: info.size };
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async url(key: string): Promise<string> {
    return `${this.base}/${assertSafeKey(key)}`;
  }

  async presign(key: string, opts: { method?: 'GET' | 'PUT' } = {}): Promise<string> {
    if (opts.method === 'PUT') throw new StorageError('local storage cannot presign uploads', 'config');
    return this.url(key);
  }

  keyFromUrl(url: string): string | null {
    if (!url.startsWith(`${this.base}/`)) return null;
    const key = decodeURIComponent(url.slice(this.base.length + 1).split(/[?#]/)[0]!);
    try {
      return assertSafeKey(key);
    } catch {
      return null;
    }
  }

  /** Absolute path of an object, for the gateway's static file route. */
  filePath(key: string): string {
    return this.path(key);
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root);
  }
}
