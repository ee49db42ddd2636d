/**
 * Our storage: re-hosting remote media (rehostMedia), JSON documents such as provenance manifests (saveJson), and
 * the small reads of our own objects the other activities share.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ERROR_TYPES, type GenerationActivities, type RehostRequest, type SaveJsonRequest, type StoredMedia } from '@gptmarket/contracts';
import { downloadToFile } from '@gptmarket/runtime';
import { extensionForContentType, makeKey, type Storage } from '@gptmarket/storage';
import { localPinImage, localPinNumber } from '@gptmarket/offline';
import { nonRetryable } from '@gptmarket/worker-runtime';
import type { ContentActivityDeps } from './deps.js';
import { toActivityFailure } from './failures.js';

/** Reads a small object of ours completely (text files, transcripts), refusing anything larger than `max`. */
export async function readSmall(body: AsyncIterable<unknown>, size: number, max: number, what: string): Promise<Buffer> {
  if (size > max) throw nonRetryable(`${what} is larger than ${max} bytes`, ERROR_TYPES.invalidInput);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > max) throw nonRetryable(`${what} is larger than ${max} bytes`, ERROR_TYPES.invalidInput);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Reads an object of ours into memory (images only: small). Null when the URL is not in our storage or the object is larger than `maxBytes`. */
export async function readOwnObject(
  storage: Storage,
  url: string,
  maxBytes = 64 * 1024 * 1024,
): Promise<{ data: Buffer; contentType: string } | null> {
  const key = storage.keyFromUrl(url);
  if (!key) return null;
  const obj = await storage.get(key);
  if (obj.size > maxBytes) {
    obj.body.destroy?.();
    return null;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of obj.body) chunks.push(chunk as Buffer);
  return { data: Buffer.concat(chunks), contentType: obj.contentType };
}

/** A storage-safe object id derived from a workflow id. */
const objectId = (name: string) => name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'object';

/** Size caps and accepted media types per kind. */
const KINDS = {
  image: { maxBytes: 25 * 1024 * 1024, types: ['image/png', 'image/jpeg', 'image/webp', 'image/gif'], timeoutMs: 90_000 },
  audio: {
    maxBytes: 200 * 1024 * 1024,
    types: ['audio/mpeg', 'audio/wav', 'audio/x-wav', 'audio/ogg', 'audio/mp4'],
    timeoutMs: 5 * 60_000,
  },
  video: { maxBytes: 1024 * 1024 * 1024, types: ['video/mp4', 'video/webm', 'video/quicktime'], timeoutMs: 10 * 60_000 },
} as const;

export function createStorageActivities(deps: ContentActivityDeps): Pick<GenerationActivities, 'rehostMedia' | 'saveJson'> {
  const { storage } = deps;
  return {
    async rehostMedia(req: RehostRequest): Promise<StoredMedia> {
      const kind = KINDS[req.kind];
      if (!kind) throw nonRetryable(`rehostMedia: unknown kind ${String(req.kind)}`, ERROR_TYPES.invalidInput);
      if (typeof req.url !== 'string' || req.url.length > 4096) throw nonRetryable('rehostMedia: bad URL', ERROR_TYPES.invalidInput);

      // Already ours: a server-side copy into the requested folder.
      const ownKey = storage.keyFromUrl(req.url);
      if (ownKey) {
        const info = await storage.head(ownKey);
        if (!info) throw nonRetryable('rehostMedia: the object is not in our storage any more', ERROR_TYPES.storage);
        if (!(kind.types as readonly string[]).includes(info.contentType.split(';')[0]!.trim())) {
          throw nonRetryable(`rehostMedia: ${info.contentType} is not an accepted ${req.kind} type`, ERROR_TYPES.invalidInput);
        }
        return storage.copy(ownKey, makeKey(req.folder, ownKey.slice(ownKey.lastIndexOf('.') + 1)));
      }

      // The offline scraper's pins are drawn by the local image provider.
      const pin = localPinNumber(req.url);
      if (pin !== null) {
        if (req.kind !== 'image') throw nonRetryable('rehostMedia: local:// URLs are images', ERROR_TYPES.invalidInput);
        const png = localPinImage(pin);
        return storage.put(makeKey(req.folder, 'png'), png, { contentType: 'image/png', contentLength: png.length });
      }

      if (!/^https?:\/\//i.test(req.url)) throw nonRetryable('rehostMedia: only http(s) URLs can be fetched', ERROR_TYPES.invalidInput);
      const ctx = Context.current();
      const dir = await mkdtemp(join(tmpdir(), 'gptmarket-rehost-'));
      try {
        const file = join(dir, 'download');
        const got = await downloadToFile(req.url, file, {
          policy: deps.providers?.downloadPolicy ?? {},
          maxBytes: kind.maxBytes,
          timeoutMs: kind.timeoutMs,
          signal: ctx.cancellationSignal,
          expectedContentTypes: [...kind.types],
        });
        const contentType = (got.contentType ?? '').split(';')[0]!.trim().toLowerCase();
        const ext = extensionForContentType(contentType);
        const { size } = await stat(file);
        return await storage.put(makeKey(req.folder, ext), createReadStream(file), { contentType, contentLength: size });
      } catch (err) {
        if (ctx.cancellationSignal.aborted) throw err;
        throw toActivityFailure(err, 'could not save the media');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },

    async saveJson(req: SaveJsonRequest) {
      const body = Buffer.from(JSON.stringify(req.data, null, 2));
      return storage.put(makeKey(req.folder, 'json', new Date(), objectId(req.name)), body, {
        contentType: 'application/json',
        contentLength: body.length,
      });
    },
  };
}
