import { createReadStream, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Context, ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import {
  AUTH_ERRORS,
  DEFAULT_WORKER_SETTINGS,
  ERROR_TYPES,
  type GeneratedMedia,
  type GenerationActivities,
  type ImageRequest,
  type PersonPromptRequest,
  type ReactionPromptRequest,
  type SaveJsonRequest,
  type VideoRequest,
  type WorkerSettings,
} from '@gptmarket/contracts';
import { checkWorkflowSecret, downloadToFile, OutboundRequestError, type OutboundPolicy, type SecretConfig } from '@gptmarket/runtime';
import { extensionForContentType, makeKey, type Storage } from '@gptmarket/storage';
import { localPersonPrompt, localReactionPrompt, localImage, localVideo } from '@gptmarket/offline';
import { buildPrediction, ModelInputError, ProviderError, runPrediction, type ReplicateClient, renderTemplate, TemplateError, type LlmClient } from '@gptmarket/providers';
import { createPinterestActivities } from './pinterest.js';
import { createStorageActivities, type ContentProviders } from './storage.js';
import { createTranscriptActivities } from './transcript.js';
import { createVoiceActivities } from './voice.js';

export interface GenerationActivityDeps {
  storage: Storage;
  secrets: SecretConfig;
  /** Provider clients, created once per process (worker.ts). Absent: everything runs on the offline local provider. */
  providers?: (PaidProviders & ContentProviders) | undefined;
  /** What workflows learn at their start (media queue, media wait); the defaults when absent. */
  settings?: WorkerSettings | undefined;
}

/** What the paid image/video activities need: the Replicate client (null → local provider) and the re-hosting policy. */
export interface PaidProviders {
  replicate: ReplicateClient | null;
  /** Outbound policy for downloading provider outputs (the operator's allow-list). */
  downloadPolicy: OutboundPolicy;
  /** Poll interval while a prediction runs. */
  pollMs: number;
  /** Largest output we re-host. */
  maxOutputBytes: number;
  /** Deadline of one output download. */
  downloadTimeoutMs?: number;
  /** The Ruby prompt LLM (OpenAI direct, as the Python system called it); null → the offline local prompt functions. */
  promptLlm?: LlmClient | null;
  /** Operator's template directory (PROMPT_PATH), read at activity time. */
  promptPath?: string | undefined;
}

/** What a paid activity records in its heartbeat: enough for a retried attempt to resume, not re-pay. */
export interface PaidJobHeartbeat {
  provider: 'replicate';
  predictionId: string;
  model: string;
  status?: string;
  phase: 'queued' | 'submitted' | 'polling' | 'rehosting';
}

const nonRetryable = (message: string, type: string) => ApplicationFailure.create({ message, type, nonRetryable: true });

/** A storage-safe object id derived from a workflow id. */
const objectId = (name: string) => name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'object';

export function createGenerationActivities(deps: GenerationActivityDeps): GenerationActivities {
  const { storage } = deps;

  async function store(folder: string, data: Buffer, contentType: string, model: string, provider: string): Promise<GeneratedMedia> {
    const key = makeKey(folder, extensionForContentType(contentType));
    const stored = await storage.put(key, data, { contentType, contentLength: data.length });
    return { ...stored, provider, model };
  }

  return {
    // Issue 4 (Pinterest, voice-over, transcripts): one factory per file.
    ...createStorageActivities(deps),
    ...createPinterestActivities(deps),
    ...createVoiceActivities(deps),
    ...createTranscriptActivities(deps),
    async verifyWorkflowAuth(secretKey) {
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
      switch (checkWorkflowSecret(deps.secrets, secretKey, workflowId)) {
        case 'ok':
        case 'disabled':
          return deps.settings ?? DEFAULT_WORKER_SETTINGS;
        case 'missing':
          throw nonRetryable(AUTH_ERRORS.missing, ERROR_TYPES.auth);
        case 'invalid':
          throw nonRetryable(AUTH_ERRORS.invalid, ERROR_TYPES.auth);
        case 'not_configured':
          throw nonRetryable(AUTH_ERRORS.notConfigured, ERROR_TYPES.auth);
      }
    },

    async generatePersonPrompt(req: PersonPromptRequest) {
      const llm = deps.providers?.promptLlm;
      if (!llm) return localPersonPrompt(req);
      const answer = await promptCall(llm, deps.providers?.promptPath, 'ugc-person', {
        gender: req.gender,
        age_range: req.age_range,
        emotion: req.emotion,
        style: req.style,
        background: req.background,
        hair_color: req.hair_color,
        ethnicity: req.ethnicity,
        clothing: req.clothing,
        context: req.context,
      });
      const json = answer.parsed;
      if (!isRecord(json) || !isRecord(json.subject)) {
        throw providerFailure(new ProviderError(answer.provider, 'invalid_output', 'the person prompt answer has no "subject" block', { retryable: true }));
      }
      return { json_prompt: json, text_prompt: JSON.stringify(json), provider: answer.provider };
    },

    async generateReactionPrompt(req: ReactionPromptRequest) {
      const llm = deps.providers?.promptLlm;
      if (!llm) return localReactionPrompt(req);
      const answer = await promptCall(llm, deps.providers?.promptPath, 'ugc-video-reaction', {
        emotion: req.emotion,
        context: req.context,
        duration: req.duration,
      });
      const json = answer.parsed;
      const movements = isRecord(json) && Array.isArray(json.movements) ? json.movements.filter((m): m is string => typeof m === 'string' && m.trim() !== '') : [];
      const finalPrompt = isRecord(json) && typeof json.final_prompt === 'string' ? json.final_prompt.trim() : '';
      if (movements.length === 0 || !finalPrompt) {
        throw providerFailure(new ProviderError(answer.provider, 'invalid_output', 'the reaction answer lacks "movements" or "final_prompt"', { retryable: true }));
      }
      return { movements: movements.slice(0, 7), video_prompt: finalPrompt, provider: answer.provider };
    },

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

    async saveJson(req: SaveJsonRequest) {
      const body = Buffer.from(JSON.stringify(req.data, null, 2));
      return storage.put(makeKey(req.folder, 'json', new Date(), objectId(req.name)), body, {
        contentType: 'application/json',
        contentLength: body.length,
      });
    },
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One templated JSON call of the prompt LLM; template and provider errors become typed failures. */
async function promptCall(llm: LlmClient, promptPath: string | undefined, template: string, vars: Record<string, string | number | null>) {
  const ctx = Context.current();
  let prompt;
  try {
    prompt = await renderTemplate(template, vars, { promptPath });
  } catch (err) {
    if (err instanceof TemplateError) throw nonRetryable(err.message, ERROR_TYPES.provider);
    throw err;
  }
  try {
    const answer = await llm.complete(
      // Inside the workflow's 2-minute activity timeout.
      { system: prompt.system, user: prompt.user, json: true, temperature: 0.7, maxTokens: 2048, timeoutMs: 90_000 },
      ctx.cancellationSignal,
    );
    ctx.log.info('prompt generated', { template: prompt.version, model: answer.model, fallback: answer.fallbackUsed });
    return answer;
  } catch (err) {
    if (err instanceof ProviderError) throw providerFailure(err);
    throw err;
  }
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

/** A ProviderError as the ApplicationFailure Temporal sees (type ProviderError; retryable only when it can help). */
function providerFailure(err: ProviderError): ApplicationFailure {
  return ApplicationFailure.create({
    message: err.message,
    type: ERROR_TYPES.provider,
    nonRetryable: !err.retryable,
    details: [{ provider: err.provider, code: err.code, status: err.status ?? null }],
    ...(err.retryAfterMs !== undefined ? { nextRetryDelay: err.retryAfterMs } : {}),
  });
}

/**
 * A Replicate prediction that is never lost nor paid twice: the prediction id goes into the heartbeat
 * details as soon as it exists; a retried attempt reads it back and resumes that prediction. A cancel of
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
  const resumeId = previous?.provider === 'replicate' && previous.model === prediction.model && typeof previous.predictionId === 'string' ? previous.predictionId : undefined;
  if (resumeId) ctx.log.info('resuming prediction recorded by an earlier attempt', { predictionId: resumeId, model: req.model, attempt: ctx.info.attempt });

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

  // Until a prediction exists, heartbeats repeat what an earlier attempt recorded (never drop its id).
  let beat: PaidJobHeartbeat | Partial<PaidJobHeartbeat> = resumeId ? { ...previous, phase: previous?.phase ?? 'polling' } : { phase: 'queued' };
  let result: { id: string; outputUrl: string };
  try {
    result = await runPrediction({
      client,
      modelLabel: req.model,
      model: prediction.model,
      input,
      resumeId,
      signal: cancelJob.signal,
      detachSignal: detach.signal,
      pollMs: providers.pollMs,
      onQueued: () => ctx.heartbeat(beat),
      onSubmitted: (id) => {
        beat = { provider: 'replicate', predictionId: id, model: prediction.model, phase: 'submitted' };
        ctx.heartbeat(beat);
      },
      onPoll: (p) => {
        beat = { provider: 'replicate', predictionId: p.id, model: prediction.model, status: p.status, phase: 'polling' };
        ctx.heartbeat(beat);
      },
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
  beat = { provider: 'replicate', predictionId: result.id, model: prediction.model, status: 'succeeded', phase: 'rehosting' };
  ctx.heartbeat(beat);
  const dir = await fsp.mkdtemp(join(tmpdir(), 'gptmarket-paid-'));
  // Large outputs take a while: keep heartbeating through the download and the upload.
  const beating = setInterval(() => ctx.heartbeat(beat), 5000);
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
      if (err instanceof OutboundRequestError) {
        throw ApplicationFailure.create({
          message: `${req.model}: could not fetch the output of prediction ${result.id}: ${err.message}`,
          type: ERROR_TYPES.provider,
          nonRetryable: !err.retryable,
        });
      }
      throw err;
    }
    ctx.heartbeat(beat);
    const contentType = (downloaded.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    const key = makeKey(req.folder, extensionForContentType(contentType));
    const stored = await storage.put(key, createReadStream(file), { contentType, contentLength: downloaded.bytes });
    return { ...stored, provider: 'replicate', model: req.model };
  } finally {
    clearInterval(beating);
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
    if (!obj) throw nonRetryable(`a media input in our storage is missing or larger than ${MAX_INLINE_BYTES} bytes`, ERROR_TYPES.invalidInput);
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

/** Reads an object of ours into memory (images only: small). Null when the URL is not in our storage. */
async function readOwnObject(storage: Storage, url: string, maxBytes = 64 * 1024 * 1024): Promise<{ data: Buffer; contentType: string } | null> {
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
