import type { Readable } from 'node:stream';

export interface StoredObject {
  key: string;
  url: string;
  content_type: string;
  size_bytes: number;
}

export interface ObjectInfo {
  contentType: string;
  size: number;
}

export interface PutOptions {
  contentType: string;
  /** Known size in bytes, when the body is a stream. */
  contentLength?: number;
}

/** One interface over local disk, S3 and R2. Keys look like `{folder}/{YYYY}/{MM}/{DD}/{id}.{ext}`. */
export interface Storage {
  readonly kind: 'local' | 's3' | 'r2';
  /** How long the URLs `url()` hands out stay valid, in seconds; null when they do not expire. */
  readonly urlExpirySeconds: number | null;
  put(key: string, body: Readable | Buffer | Uint8Array | string, opts: PutOptions): Promise<StoredObject>;
  get(key: string): Promise<{ body: Readable } & ObjectInfo>;
  head(key: string): Promise<ObjectInfo | null>;
  copy(sourceKey: string, destKey: string): Promise<StoredObject>;
  delete(key: string): Promise<void>;
  /** The URL handed to callers: public when the objects are public (a public base, or public-read), otherwise presigned. */
  url(key: string): Promise<string>;
  /**
   * A time-limited URL for reading (GET) or writing (PUT) the object without credentials. Local storage has no
   * signing: its reads are the public URL and it refuses PUT.
   */
  presign(key: string, opts?: { method?: 'GET' | 'PUT'; expiresInSeconds?: number; contentType?: string }): Promise<string>;
  /** The object key when `url` points into this storage, else null. */
  keyFromUrl(url: string): string | null;
  /** Verifies the storage is reachable (readiness). */
  check(): Promise<void>;
}

export class StorageError extends Error {
  constructor(
    message: string,
    readonly code: 'not_found' | 'bad_key' | 'unavailable' | 'config',
  ) {
    super(message);
    this.name = 'StorageError';
  }
}
