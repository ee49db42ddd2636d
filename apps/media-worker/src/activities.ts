import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import {
  ERROR_TYPES,
  ProbeRequest,
  RENDER_PROGRESS_SIGNAL,
  RenderPlan,
  formatIssues,
  type ExtractAudioRequest,
  type MediaActivities,
  type MediaProbe,
  type RenderProgress,
  type RenderResult,
  type StoredMedia,
} from '@gptmarket/contracts';
import { downloadToFile, OutboundRequestError, type OutboundPolicy } from '@gptmarket/runtime';
import { makeKey, type Storage } from '@gptmarket/storage';
import { activityFailure, HEARTBEAT_EVERY_MS, keepAlive, nonRetryable } from '@gptmarket/worker-runtime';
import { fontForLine, fontPath, MissingFontError } from './ffmpeg/fonts.js';
import { compileRender, PROVENANCE } from './ffmpeg/plan.js';
import { assertInputFormat, probeMedia, UndecodableMediaError, type MediaInfo } from './ffmpeg/probe.js';
import { FfmpegError, runFfmpeg } from './ffmpeg/run.js';

export interface MediaActivityDeps {
  storage: Storage;
  /** Outbound policy for inputs outside our storage (private addresses refused unless allowed here). */
  policy: OutboundPolicy;
  maxInputBytes: number;
  fontDir?: string | undefined;
  /** Whole-download deadline per input (default 10 minutes). */
  downloadTimeoutMs?: number | undefined;
  /** FFmpeg run deadline (default 9 minutes); the process is killed past it. */
  renderTimeoutMs?: number | undefined;
  /** How much lower FFmpeg's CPU priority is than the worker's (`nice`; default 0). */
  ffmpegNice?: number | undefined;
  /** Parent of the per-activity temp directories (default the OS temp dir). */
  tempRoot?: string | undefined;
  /** Heartbeat interval while working (default 1 s), so cancellation arrives even between progress lines. */
  heartbeatMs?: number | undefined;
}

/** FFmpeg stderr that means the input itself is bad: retrying cannot help. */
const UNDECODABLE =
  /Invalid data found when processing input|moov atom not found|could not find codec parameters|Error while decoding stream|does not contain any stream|Invalid NAL unit|corrupt/i;

/**
 * Signals the workflow that asked for a render (`RENDER_PROGRESS_SIGNAL`) once as the encode passes each mark.
 * Best effort: the signal only moves a progress display, so a failed one is logged, never fatal.
 */
function progressSignals(ctx: Context, marks: readonly number[]) {
  const pending = [...new Set(marks)].sort((a, b) => a - b);
  const sent: Promise<unknown>[] = [];
  return {
    progress(pct: number): void {
      if (pending.length === 0 || pct < pending[0]!) return;
      while (pending.length > 0 && pct >= pending[0]!) pending.shift();
      const run = ctx.info.workflowExecution;
      if (!run) return;
      const payload: RenderProgress = { pct };
      sent.push(
        Promise.resolve()
          .then(() => ctx.client.workflow.getHandle(run.workflowId, run.runId).signal(RENDER_PROGRESS_SIGNAL, payload))
          .catch((err: unknown) =>
            ctx.log.warn('could not signal render progress', { error: err instanceof Error ? err.message : String(err) }),
          ),
      );
    },
    /** Resolves once every signal sent has been delivered (or has failed): they reach the workflow before the result. */
    settled: () => Promise.all(sent),
  };
}

/** Waits for every promise to settle, then gives their values or throws the first rejection. */
async function allSettledOrThrow<T extends readonly unknown[]>(promises: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(promises);
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

export function createMediaActivities(deps: MediaActivityDeps): MediaActivities {
  const tempRoot = deps.tempRoot ?? tmpdir();
  const heartbeatMs = deps.heartbeatMs ?? HEARTBEAT_EVERY_MS;

  /** Brings an input onto this worker's disk: streamed from our storage, or a guarded download (SSRF-safe, capped). */
  async function fetchInput(url: string, dest: string, signal: AbortSignal): Promise<void> {
    const key = deps.storage.keyFromUrl(url);
    if (key) {
      const obj = await deps.storage.get(key);
      if (obj.size > deps.maxInputBytes) {
        obj.body.destroy();
        throw nonRetryable(`the input is larger than ${deps.maxInputBytes} bytes`, ERROR_TYPES.invalidInput);
      }
      let bytes = 0;
      const cap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          cb(bytes > deps.maxInputBytes ? new Error(`the input is larger than ${deps.maxInputBytes} bytes`) : null, chunk);
        },
      });
      // Same deadline as a download: a stalled storage read cannot hold the activity forever.
      const deadline = AbortSignal.any([signal, AbortSignal.timeout(deps.downloadTimeoutMs ?? 10 * 60_000)]);
      await pipeline(obj.body, cap, createWriteStream(dest, { mode: 0o600 }), { signal: deadline });
      return;
    }
    try {
      await downloadToFile(url, dest, {
        policy: deps.policy,
        maxBytes: deps.maxInputBytes,
        timeoutMs: deps.downloadTimeoutMs ?? 10 * 60_000,
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      if (err instanceof OutboundRequestError) {
        // Refused addresses, bad URLs, oversize and 4xx are the caller's to fix; network trouble and 5xx may pass.
        if (err.retryable) throw activityFailure(`could not download the input: ${err.message}`, ERROR_TYPES.media, { retryable: true });
        throw nonRetryable(`could not download the input: ${err.message}`, ERROR_TYPES.invalidInput, [{ code: err.publicCode }]);
      }
      throw err;
    }
  }

  /** A fresh directory for one activity attempt, always removed afterwards (success, failure or cancel). */
  async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tempRoot, prefix));
    try {
      return await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Failures as the workflow (and through it the generation's `error`) sees them: words for the person who sent
   * the input. FFmpeg's stderr, temp paths and font paths go to this worker's log only.
   */
  function classify(err: unknown, ctx: Context): unknown {
    if (ctx.cancellationSignal.aborted) return err;
    if (err instanceof UndecodableMediaError) {
      if (err.detail) ctx.log.warn('ffprobe could not read the input', { detail: err.detail });
      return nonRetryable(err.message, ERROR_TYPES.invalidInput);
    }
    if (err instanceof MissingFontError) {
      ctx.log.error('caption font missing', { path: err.path });
      return nonRetryable(err.message, ERROR_TYPES.media);
    }
    if (err instanceof FfmpegError) {
      ctx.log.warn('ffmpeg failed', { exitCode: err.exitCode, error: err.message, stderr: err.stderrTail });
      if (err.stderrTail.some((l) => UNDECODABLE.test(l)))
        return nonRetryable('the input cannot be decoded as audio or video', ERROR_TYPES.invalidInput);
      if (err.exitCode === null) return activityFailure('the media engine could not start', ERROR_TYPES.media, { retryable: true });
      return activityFailure(`the media engine failed (exit code ${err.exitCode})`, ERROR_TYPES.media, { retryable: true });
    }
    return err;
  }

  return {
    async renderVideo(planInput): Promise<RenderResult> {
      const ctx = Context.current();
      const parsed = RenderPlan.safeParse(planInput);
      if (!parsed.success) {
        throw nonRetryable(
          `invalid render plan: ${formatIssues(parsed.error)
            .map((i) => `${i.path}: ${i.message}`)
            .join('; ')}`,
          ERROR_TYPES.invalidInput,
        );
      }
      const plan = parsed.data;
      let progress = 0;
      let phase = 'download';
      const stop = keepAlive(heartbeatMs, () => ({ phase, pct: progress }));
      try {
        return await withTempDir('gptmarket-render-', async (dir) => {
          const input = join(dir, 'input');
          await fetchInput(plan.input_url, input, ctx.cancellationSignal);
          let audioInput: string | undefined;
          let audioInfo: MediaInfo | undefined;
          if (plan.audio) {
            audioInput = join(dir, 'audio');
            await fetchInput(plan.audio.url, audioInput, ctx.cancellationSignal);
          }
          phase = 'probe';
          const info = await probeMedia(input, ctx.cancellationSignal);
          assertInputFormat(info);
          if (!info.video) throw nonRetryable('the input has no video stream', ERROR_TYPES.invalidInput);
          if (audioInput) {
            audioInfo = await probeMedia(audioInput, ctx.cancellationSignal);
            assertInputFormat(audioInfo);
            if (!audioInfo.audio) throw nonRetryable('the audio track has no audio stream', ERROR_TYPES.invalidInput);
          }
          const compiled = compileRender(plan, info, {
            dir,
            input,
            audioInput,
            audioInfo,
            fontFile: (font) => fontPath(font, deps.fontDir),
            lineFont: (line, primary) => fontForLine(line, primary, deps.fontDir),
          });
          for (const f of compiled.textFiles) await writeFile(f.path, f.content, { encoding: 'utf8', mode: 0o600 });
          phase = 'render';
          ctx.heartbeat({ phase, pct: 0 });
          const signals = progressSignals(ctx, plan.signal_progress_at);
          await runFfmpeg(compiled.args, {
            signal: ctx.cancellationSignal,
            expectedSeconds: compiled.expectedSeconds,
            timeoutMs: deps.renderTimeoutMs ?? 9 * 60_000,
            nice: deps.ffmpegNice,
            onProgress: (pct) => {
              if (pct === progress) return;
              progress = pct;
              ctx.heartbeat({ phase, pct });
              signals.progress(pct);
            },
          });
          await signals.settled();
          phase = 'upload';
          const id = randomBytes(6).toString('hex');
          const now = new Date();
          const upload = async (path: string | null, ext: string, contentType: string) => {
            if (!path) return undefined;
            const { size } = await stat(path);
            return deps.storage.put(makeKey(plan.output.folder, ext, now, id), createReadStream(path), {
              contentType,
              contentLength: size,
            });
          };
          // The output's probe and the three uploads are independent: run them together, and let every one finish
          // (the temp directory goes when this returns) before the first failure, if any, is thrown.
          const [out, stored, poster, preview] = await allSettledOrThrow([
            probeMedia(compiled.outputPath, ctx.cancellationSignal),
            upload(compiled.outputPath, 'mp4', 'video/mp4'),
            upload(compiled.posterPath, 'jpg', 'image/jpeg'),
            upload(compiled.previewPath, 'gif', 'image/gif'),
          ] as const);
          const result: RenderResult = {
            ...stored!,
            duration_seconds: out.durationSeconds,
            width: out.video?.width ?? 0,
            height: out.video?.height ?? 0,
            has_audio: out.audio !== null,
          };
          if (poster) result.poster_url = poster.url;
          if (preview) result.preview_url = preview.url;
          return result;
        });
      } catch (err) {
        throw classify(err, ctx);
      } finally {
        stop();
      }
    },

    async probeMedia(req): Promise<MediaProbe> {
      const ctx = Context.current();
      const parsed = ProbeRequest.safeParse(req);
      if (!parsed.success) throw nonRetryable('invalid probe request: url must be an http(s) URL', ERROR_TYPES.invalidInput);
      const stop = keepAlive(heartbeatMs, () => ({ phase: 'probe' }));
      try {
        return await withTempDir('gptmarket-probe-', async (dir) => {
          const input = join(dir, 'input');
          await fetchInput(parsed.data.url, input, ctx.cancellationSignal);
          const info = await probeMedia(input, ctx.cancellationSignal);
          assertInputFormat(info);
          return {
            duration_seconds: info.durationSeconds,
            size_bytes: info.sizeBytes,
            format: info.formatName,
            video: info.video
              ? {
                  codec: info.video.codec,
                  width: info.video.width,
                  height: info.video.height,
                  fps: info.video.fps,
                  pixel_format: info.video.pixelFormat,
                }
              : null,
            audio: info.audio ? { codec: info.audio.codec, sample_rate: info.audio.sampleRate, channels: info.audio.channels } : null,
            has_audio: info.audio !== null,
          };
        });
      } catch (err) {
        throw classify(err, ctx);
      } finally {
        stop();
      }
    },

    async extractAudio(req: ExtractAudioRequest): Promise<StoredMedia> {
      const ctx = Context.current();
      const format = req.format ?? 'm4a';
      if (typeof req.input_url !== 'string' || !/^https?:\/\//i.test(req.input_url) || (format !== 'm4a' && format !== 'wav')) {
        throw nonRetryable(
          'invalid extract-audio request: input_url must be an http(s) URL and format m4a or wav',
          ERROR_TYPES.invalidInput,
        );
      }
      let key: string;
      try {
        key = makeKey(req.output.folder, format);
      } catch (err) {
        throw nonRetryable(`invalid extract-audio request: ${(err as Error).message}`, ERROR_TYPES.invalidInput);
      }
      let progress = 0;
      const stop = keepAlive(heartbeatMs, () => ({ phase: 'extract', pct: progress }));
      try {
        return await withTempDir('gptmarket-audio-', async (dir) => {
          const input = join(dir, 'input');
          await fetchInput(req.input_url, input, ctx.cancellationSignal);
          const info = await probeMedia(input, ctx.cancellationSignal);
          assertInputFormat(info);
          if (!info.audio) throw nonRetryable('the input has no audio stream', ERROR_TYPES.invalidInput);
          const output = join(dir, `audio.${format}`);
          await runFfmpeg(
            [
              '-hide_banner',
              '-nostdin',
              '-y',
              '-loglevel',
              'error',
              '-progress',
              'pipe:1',
              '-nostats',
              '-protocol_whitelist',
              'file',
              '-i',
              input,
              '-map',
              '0:a:0',
              '-vn',
              ...(format === 'wav' ? ['-c:a', 'pcm_s16le'] : ['-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart+use_metadata_tags']),
              '-map_metadata',
              '-1',
              '-map_chapters',
              '-1',
              '-metadata',
              `comment=${PROVENANCE.comment}`,
              '-metadata',
              `generator=${PROVENANCE.generator}`,
              output,
            ],
            {
              signal: ctx.cancellationSignal,
              expectedSeconds: info.durationSeconds,
              timeoutMs: deps.renderTimeoutMs ?? 9 * 60_000,
              nice: deps.ffmpegNice,
              onProgress: (pct) => {
                progress = pct;
              },
            },
          );
          const { size } = await stat(output);
          return deps.storage.put(key, createReadStream(output), {
            contentType: format === 'wav' ? 'audio/wav' : 'audio/mp4',
            contentLength: size,
          });
        });
      } catch (err) {
        throw classify(err, ctx);
      } finally {
        stop();
      }
    },
  };
}
