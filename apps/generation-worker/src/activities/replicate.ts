/**
 * Image and video generation: a Replicate prediction that is never lost nor paid twice, its output re-hosted in our
 * storage; without a Replicate key, the offline local provider draws the image or clip.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Context, CancelledFailure } from '@temporalio/activity';
import { ERROR_TYPES, type GeneratedMedia, type GenerationActivities, type ImageRequest, type VideoRequest } from '@gptmarket/contracts';
import { downloadToFile } from '@gptmarket/runtime';
import { extensionForContentType, makeKey, type Storage } from '@gptmarket/storage';
import { localImage, localVideo } from '@gptmarket/offline';
import { buildPrediction, ModelInputError, ProviderError, runPrediction, type ReplicateClient } from '@gptmarket/providers';
import { HEARTBEAT_EVERY_MS, keepAlive, nonRetryable } from '@gptmarket/worker-runtime';
import type { PaidProviders } from './deps.js';
import { providerFailure, toActivityFailure } from './failures.js';
import { readOwnObject } from './storage.js';

/** What a paid activity records in its heartbeat: enough for a retried attempt to resume, not re-pay. */
export interface PaidJobHeartbeat {
  provider: 'replicate';
  predictionId: string;
  model: string;
  status?: string;
  phase: 'queued' | 'submitted' | 'polling' | 'rehosting';
}

export function createReplicateActivities(deps: {
  storage: Storage;
  providers?: PaidProviders | undefined;
}): Pick<GenerationActivities, 'generateImage' | 'generateVideo'> {
  const { storage } = deps;

  async function store(folder: string, data: Buffer, contentType: string, model: string, provider: string): Promise<GeneratedMedia> {
    const key = makeKey(folder, extensionForContentType(contentType));
    const stored = await storage.put(key, data, { contentType, contentLength: data.length });
    return { ...stored, provider, model };
  }

  return {
    async generateImage(req: ImageRequest) {
      const prediction = validated(req, 'image');
      if (deps.providers?.replicate) return paid(deps.providers, deps.providers.replicate, storage, req, prediction, 'image');
      const image = await localImage(req);
      return store(req.folder, image.data, image.contentType, req.model, 'local');
    },

    async generateVideo(req: VideoRequest) {
      const prediction = validated(req, 'video');
      if (deps.providers?.replicate) return paid(deps.providers, deps.providers.replicate, storage, req, prediction, 'video');
      const startImage = typeof req.params.image === 'string' ? await readOwnObject(storage, req.params.image) : null;
      const video = await localVideo(req, startImage, () => Context.current().heartbeat());
      return store(req.folder, video.data, video.contentType, req.model, 'local');
    },
  };
}

/** The model's payload, validated before anything is paid for; bad input is a non-retryable InvalidInputError. */
function validated(req: ImageRequest, category: 'image' | 'video') {
  try {
    return buildPrediction(req.model, req.params, category);
  } catch (err) {
    if (err instanceof ModelInputError) throw nonRetryable(err.message, ERROR_TYPES.invalidInput);
    throw err;
  }
}

/** How far before the activity's first schedule an unrecorded prediction is looked for (clocks differ). */
const ADOPT_CLOCK_SKEW_MS = 60_000;

/**
 * A Replicate prediction that is never lost nor paid twice: the prediction id goes into the heartbeat
 * details as soon as it exists; a retried attempt reads it back and resumes that prediction. A retried attempt
 * with no id recorded (its predecessor died with the create in flight, or before its heartbeat reached Temporal)
 * first looks for the prediction among those Replicate lists as created since the activity was scheduled (same
 * model, same input) and adopts it; only when there is none does it create one. Replicate's create has no
 * idempotency key, so listing is the one way to close that window. A cancel of
 * the activity (the workflow was canceled) cancels the prediction; a worker shutdown or heartbeat timeout
 * only stops waiting, so the next attempt can pick the prediction up. The output is streamed into our
 * storage: the URL returned is ours, never the provider's.
 */
async function paid(
  providers: PaidProviders,
  client: ReplicateClient,
  storage: Storage,
  req: ImageRequest,
  prediction: { model: string; input: Record<string, unknown> },
  category: 'image' | 'video',
): Promise<GeneratedMedia> {
  const ctx = Context.current();
  const previous = ctx.info.heartbeatDetails as Partial<PaidJobHeartbeat> | undefined;
  const resumeId =
    previous?.provider === 'replicate' && previous.model === prediction.model && typeof previous.predictionId === 'string'
      ? previous.predictionId
      : undefined;
  if (resumeId)
    ctx.log.info('resuming prediction recorded by an earlier attempt', {
      predictionId: resumeId,
      model: req.model,
      attempt: ctx.info.attempt,
    });

  // Cancel the paid job only when the activity itself is canceled; otherwise just stop waiting.
  const cancelJob = new AbortController();
  const detach = new AbortController();
  const onCancel = () => {
    const reason = ctx.cancellationSignal.reason as unknown;
    if (reason instanceof CancelledFailure && reason.message === 'CANCELLED') cancelJob.abort(reason);
    else detach.abort(reason);
  };
  if (ctx.cancellationSignal.aborted) onCancel();
  else ctx.cancellationSignal.addEventListener('abort', onCancel, { once: true });

  // Our own media (the face image of a Ruby run) must be reachable by the provider.
  const input = resumeId ? prediction.input : await providerReachableInput(storage, prediction.input);

  // Until a prediction exists, heartbeats repeat what an earlier attempt recorded (never drop its id). The activity
  // heartbeats every second from here to the end (queued, polling, re-hosting), so a dead worker is noticed in seconds.
  let beat: PaidJobHeartbeat | Partial<PaidJobHeartbeat> = resumeId
    ? { ...previous, phase: previous?.phase ?? 'polling' }
    : { phase: 'queued' };
  const stopBeating = keepAlive(HEARTBEAT_EVERY_MS, () => beat);
  const record = (id: string, phase: PaidJobHeartbeat['phase'], status?: string) => {
    beat = { provider: 'replicate', predictionId: id, model: prediction.model, ...(status ? { status } : {}), phase };
    ctx.heartbeat(beat);
  };
  let result: { id: string; outputUrl: string; predictTime?: number };
  try {
    try {
      result = await runPrediction({
        client,
        modelLabel: req.model,
        model: prediction.model,
        input,
        resumeId,
        adoptCreatedAfter: !resumeId && ctx.info.attempt > 1 ? new Date(ctx.info.scheduledTimestampMs - ADOPT_CLOCK_SKEW_MS) : undefined,
        signal: cancelJob.signal,
        detachSignal: detach.signal,
        pollMs: providers.pollMs,
        onAdopted: (id) =>
          ctx.log.info('adopting the prediction an earlier attempt created without recording it', {
            predictionId: id,
            model: req.model,
            attempt: ctx.info.attempt,
          }),
        onSubmitted: (id) => record(id, 'submitted'),
        onPoll: (p) => record(p.id, 'polling', p.status),
      });
    } catch (err) {
      // Canceled (the prediction was canceled too) or detached: report it as Temporal's cancellation.
      if (detach.signal.aborted) throw detach.signal.reason;
      if (cancelJob.signal.aborted) throw cancelJob.signal.reason;
      if (err instanceof ProviderError) throw providerFailure(err);
      throw err;
    } finally {
      ctx.cancellationSignal.removeEventListener('abort', onCancel);
    }
    // Re-host: stream the provider's file through the SSRF-safe client into our storage.
    record(result.id, 'rehosting', 'succeeded');
    return await rehost(providers, storage, req, result, category);
  } finally {
    stopBeating();
  }
}

/** Streams a finished prediction's output through the SSRF-safe client into our storage. */
async function rehost(
  providers: PaidProviders,
  storage: Storage,
  req: ImageRequest,
  result: { id: string; outputUrl: string; predictTime?: number },
  category: 'image' | 'video',
): Promise<GeneratedMedia> {
  const ctx = Context.current();
  const dir = await fsp.mkdtemp(join(tmpdir(), 'gptmarket-paid-'));
  try {
    const file = join(dir, `${randomUUID()}.bin`);
    let downloaded;
    try {
      downloaded = await downloadToFile(result.outputUrl, file, {
        policy: providers.downloadPolicy,
        maxBytes: providers.maxOutputBytes,
        timeoutMs: providers.downloadTimeoutMs ?? 10 * 60_000,
        signal: ctx.cancellationSignal,
        expectedContentTypes: [`${category}/`],
      });
    } catch (err) {
      throw toActivityFailure(err, `${req.model}: could not fetch the output of prediction ${result.id}`, ERROR_TYPES.provider);
    }
    const contentType = (downloaded.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    const key = makeKey(req.folder, extensionForContentType(contentType));
    const stored = await storage.put(key, createReadStream(file), { contentType, contentLength: downloaded.bytes });
    // Replicate bills these models per output; the compute seconds it reports go with the cost for reference.
    const usage = {
      provider: 'replicate',
      model: req.model,
      ...(result.predictTime !== undefined ? { predict_time: result.predictTime } : {}),
    };
    return { ...stored, provider: 'replicate', model: req.model, usage };
  } finally {
    await fsp.rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/** Input fields that carry media URLs. */
const MEDIA_INPUTS = ['image', 'start_image', 'last_frame_image', 'image_input'];
/** Largest own image inlined as a data URI for the provider (local storage only). */
const MAX_INLINE_BYTES = 10 * 1024 * 1024;

/**
 * URLs of our storage in a model input, made reachable by the provider: S3/R2 objects get a fresh URL
 * (public, or presigned now so it has not expired by the time the provider fetches it); objects of the
 * local storage driver (a URL on our own gateway, usually not reachable from the provider) are inlined as
 * data URIs. Other URLs are left as they are.
 */
async function providerReachableInput(storage: Storage, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const reachable = async (url: unknown): Promise<unknown> => {
    if (typeof url !== 'string') return url;
    const key = storage.keyFromUrl(url);
    if (!key) return url;
    if (storage.kind !== 'local') return storage.url(key);
    const obj = await readOwnObject(storage, url, MAX_INLINE_BYTES);
    if (!obj)
      throw nonRetryable(`a media input in our storage is missing or larger than ${MAX_INLINE_BYTES} bytes`, ERROR_TYPES.invalidInput);
    return `data:${obj.contentType};base64,${obj.data.toString('base64')}`;
  };
  const out: Record<string, unknown> = { ...input };
  for (const field of MEDIA_INPUTS) {
    const v = out[field];
    if (v === undefined) continue;
    out[field] = Array.isArray(v) ? await Promise.all(v.map(reachable)) : await reachable(v);
  }
  return out;
}
