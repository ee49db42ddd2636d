import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  HeadObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import { assertSafeKey } from './keys.js';
import { StorageError, type ObjectInfo, type PutOptions, type Storage, type StoredObject } from './types.js';

export interface S3StorageOptions {
  kind: 's3' | 'r2';
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  endpoint?: string | undefined;
  forcePathStyle?: boolean | undefined;
  /** Public base URL (CDN or public bucket domain); without it (and without `publicRead`), callers get presigned URLs. */
  publicBaseUrl?: string | undefined;
  /** Upload with the `public-read` ACL and hand out the standard bucket URL (S3 only: R2 has no object ACLs). */
  publicRead?: boolean | undefined;
  presignSeconds: number;
}

/** SigV4 caps presigned URLs at 7 days. */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

const encodeKey = (key: string) => key.split('/').map(encodeURIComponent).join('/');

const isNotFound = (err: unknown) =>
  err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NotFound' || err.name === 'NoSuchKey');

/** S3 and Cloudflare R2 (S3 protocol). One client per process; uploads stream in parts; an ACL only with `publicRead`. */
export class S3Storage implements Storage {
  readonly kind: 's3' | 'r2';
  readonly urlExpirySeconds: number | null;
  private readonly client: S3Client;
  private readonly acl: { ACL?: 'public-read' };
  /** Presigned read URLs of the current signing window, by key (see `signedReadUrl`). */
  private readonly signed = new Map<string, Promise<string>>();
  private signedWindow = 0;

  constructor(private readonly opts: S3StorageOptions) {
    this.kind = opts.kind;
    this.acl = opts.publicRead ? { ACL: 'public-read' } : {};
    this.urlExpirySeconds = opts.publicBaseUrl || opts.publicRead ? null : Math.min(opts.presignSeconds, MAX_PRESIGN_SECONDS);
    this.client = new S3Client({
      region: opts.region,
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle ?? Boolean(opts.endpoint),
      credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
    });
  }

  async put(key: string, body: Readable | Buffer | Uint8Array | string, opts: PutOptions): Promise<StoredObject> {
    assertSafeKey(key);
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.opts.bucket,
        Key: key,
        Body: body,
        ContentType: opts.contentType,
        ContentLength: opts.contentLength,
        ...this.acl,
      },
      queueSize: 2,
      partSize: 8 * 1024 * 1024,
      leavePartsOnError: false,
    });
    await upload.done();
    const info = await this.head(key);
    return { key, url: await this.url(key), content_type: opts.contentType, size_bytes: info?.size ?? 0 };
  }

  async get(key: string): Promise<{ body: Readable } & ObjectInfo> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: assertSafeKey(key) }));
      return {
        body: res.Body as Readable,
        contentType: res.ContentType ?? 'application/octet-stream',
        size: res.ContentLength ?? 0,
      };
    } catch (err) {
      if (isNotFound(err)) throw new StorageError(`object not found: ${key}`, 'not_found');
      throw err;
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: assertSafeKey(key) }));
      return { contentType: res.ContentType ?? 'application/octet-stream', size: res.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async copy(sourceKey: string, destKey: string): Promise<StoredObject> {
    const info = await this.head(sourceKey);
    if (!info) throw new StorageError(`object not found: ${sourceKey}`, 'not_found');
    await this.client.send(
      new CopyObjectCommand({
        Bucket: this.opts.bucket,
        Key: assertSafeKey(destKey),
        CopySource: `${this.opts.bucket}/${encodeURIComponent(sourceKey).replace(/%2F/g, '/')}`,
        ...this.acl,
      }),
    );
    return { key: destKey, url: await this.url(destKey), content_type: info.contentType, size_bytes: info.size };
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: assertSafeKey(key) }));
  }

  /**
   * The public base URL + key when one is configured (R2 custom domain / CDN / public bucket); with `publicRead` the
   * standard bucket URL, as the Python system built it: `{endpoint}/{bucket}/{key}`, else
   * `https://{bucket}.s3.{region}.amazonaws.com/{key}`; otherwise a presigned GET (local signing, no request).
   */
  async url(key: string): Promise<string> {
    assertSafeKey(key);
    if (this.opts.publicBaseUrl) return `${this.opts.publicBaseUrl.replace(/\/+$/, '')}/${encodeKey(key)}`;
    if (this.opts.publicRead) {
      const bucketUrl = this.opts.endpoint
        ? `${this.opts.endpoint.replace(/\/+$/, '')}/${this.opts.bucket}`
        : `https://${this.opts.bucket}.s3.${this.opts.region}.amazonaws.com`;
      return `${bucketUrl}/${encodeKey(key)}`;
    }
    return this.signedReadUrl(key);
  }

  /**
   * A presigned GET for the configured lifetime, signed as of the start of the current window (an eighth of the
   * lifetime, at most an hour) and reused within it: repeated reads hand out the same URL, so browser and CDN caches
   * keep working and a busy list signs each key once; every URL handed out still has 7/8 of its lifetime or more.
   */
  private signedReadUrl(key: string): Promise<string> {
    const lifetime = this.urlExpirySeconds!;
    const windowMs = Math.min(3600, Math.floor(lifetime / 8)) * 1000;
    if (windowMs === 0) return this.presign(key);
    const start = Math.floor(Date.now() / windowMs) * windowMs;
    if (start !== this.signedWindow || this.signed.size >= 10_000) {
      this.signed.clear();
      this.signedWindow = start;
    }
    let url = this.signed.get(key);
    if (!url) {
      url = getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.opts.bucket, Key: key }), {
        expiresIn: lifetime,
        signingDate: new Date(start),
      });
      url.catch(() => this.signed.delete(key));
      this.signed.set(key, url);
    }
    return url;
  }

  async presign(key: string, opts: { method?: 'GET' | 'PUT'; expiresInSeconds?: number; contentType?: string } = {}): Promise<string> {
    assertSafeKey(key);
    const expiresIn = Math.max(1, Math.min(opts.expiresInSeconds ?? this.opts.presignSeconds, MAX_PRESIGN_SECONDS));
    const command =
      opts.method === 'PUT'
        ? new PutObjectCommand({ Bucket: this.opts.bucket, Key: key, ...(opts.contentType ? { ContentType: opts.contentType } : {}) })
        : new GetObjectCommand({ Bucket: this.opts.bucket, Key: key });
    return getSignedUrl(this.client, command, { expiresIn });
  }

  keyFromUrl(url: string): string | null {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return null;
    }
    const candidates: string[] = [];
    const base = this.opts.publicBaseUrl?.replace(/\/+$/, '');
    if (base && url.startsWith(`${base}/`)) candidates.push(url.slice(base.length + 1).split(/[?#]/)[0]!);
    if (this.opts.endpoint) {
      const ep = new URL(this.opts.endpoint);
      if (parsed.host === ep.host && parsed.pathname.startsWith(`/${this.opts.bucket}/`)) {
        candidates.push(parsed.pathname.slice(this.opts.bucket.length + 2));
      }
    } else if (parsed.host === `${this.opts.bucket}.s3.${this.opts.region}.amazonaws.com`) {
      candidates.push(parsed.pathname.slice(1));
    } else if (parsed.host === `s3.${this.opts.region}.amazonaws.com` && parsed.pathname.startsWith(`/${this.opts.bucket}/`)) {
      // Path-style AWS URLs (S3_FORCE_PATH_STYLE=true without an endpoint).
      candidates.push(parsed.pathname.slice(this.opts.bucket.length + 2));
    }
    for (const c of candidates) {
      try {
        return assertSafeKey(decodeURIComponent(c));
      } catch {
        /* not one of ours */
      }
    }
    return null;
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.opts.bucket }));
    } catch (err) {
      throw new StorageError(`bucket ${this.opts.bucket} is not reachable: ${(err as Error).name}`, 'unavailable');
    }
  }
}
