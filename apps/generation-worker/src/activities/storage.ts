/**
 * Re-hosting of remote media in our storage, and the helpers the other activity files of issue 4 share
 * (error classification, heartbeats, small reads).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ERROR_TYPES, type RehostRequest, type StoredMedia } from '@gptmarket/contracts';
import { OutboundRequestError, downloadToFile, type OutboundPolicy } from '@gptmarket/runtime';
import { extensionForContentType, makeKey, type Storage } from '@gptmarket/storage';
import { localPinImage, localPinNumber } from '@gptmarket/offline';
import { ProviderError, type GptMarketClient, type LlmClient, type SpeechClient, type Transcriber } from '@gptmarket/providers';

export const nonRetryable = (message: string, type: string, details?: unknown[]) =>
  ApplicationFailure.create({ message, type, nonRetryable: true, ...(details ? { details } : {}) });

/** ProviderError → retryable or not as classified; guarded-download errors likewise; anything else unchanged. */
export function toActivityFailure(err: unknown, what: string): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof ProviderError) {
    return ApplicationFailure.create({
      message: `${what}: ${err.message}`,
      type: ERROR_TYPES.provider,
      nonRetryable: !err.retryable,
      details: [{ provider: err.provider, code: err.code, status: err.status ?? null }],
      ...(err.retryAfterMs !== undefined && err.retryable ? { nextRetryDelay: err.retryAfterMs } : {}),
    });
  }
  if (err instanceof OutboundRequestError) {
    return ApplicationFailure.create({
      message: `${what}: ${err.message}`,
      type: ERROR_TYPES.storage,
      nonRetryable: !err.retryable,
      details: [{ code: err.publicCode, status: err.status ?? null }],
    });
  }
  return err;
}

/** Heartbeats every `ms` while a long call runs (so the heartbeat timeout only fires when the worker is gone). */
export function keepAlive(ms = 10_000, details?: () => unknown): () => void {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(details?.()), ms);
  return () => clearInterval(timer);
}

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

/**
 * The provider clients the issue-4 activities use, read from the worker's `deps.providers` (created once per
 * process in worker.ts). Each one absent (or null) → that activity runs on the offline local provider.
 */
export interface ContentProviders {
  /** Outbound policy for remote media (private addresses refused unless allowed). */
  downloadPolicy?: OutboundPolicy | undefined;
  /** Gemini primary, OpenAI fallback (packages/providers/src/llm): Pinterest queries and transcript summaries. */
  llm?: LlmClient | null | undefined;
  /** Operator's template directory (PROMPT_PATH). */
  promptPath?: string | undefined;
  /** The GPTMarket Pinterest scraper; null → the offline scraper. */
  gptmarket?: GptMarketClient | null | undefined;
  speech?: SpeechClient | null | undefined;
  transcriber?: Transcriber | null | undefined;
}
export interface ContentActivityDeps {
  storage: Storage;
  providers?: ContentProviders | undefined;
}

/** Size caps and accepted media types per kind. */
const KINDS = {
  image: { maxBytes: 25 * 1024 * 1024, types: ['image/png', 'image/jpeg', 'image/webp', 'image/gif'], timeoutMs: 90_000 },
  audio: { maxBytes: 200 * 1024 * 1024, types: ['audio/mpeg', 'audio/wav', 'audio/x-wav', 'audio/ogg', 'audio/mp4'], timeoutMs: 5 * 60_000 },
  video: { maxBytes: 1024 * 1024 * 1024, types: ['video/mp4', 'video/webm', 'video/quicktime'], timeoutMs: 10 * 60_000 },
} as const;

export function createStorageActivities(deps: ContentActivityDeps) {
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
  };
}
