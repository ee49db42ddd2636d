import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ERROR_TYPES, RenderPlan, formatIssues, type MediaActivities, type RenderResult } from '@gptmarket/contracts';
import { downloadToFile, makeKey, type OutboundPolicy, type Storage } from '@gptmarket/providers';
import { fontPath, MissingFontError } from './ffmpeg/fonts.js';
import { compileRender } from './ffmpeg/plan.js';
import { probeMedia, UndecodableMediaError } from './ffmpeg/probe.js';
import { FfmpegError, runFfmpeg } from './ffmpeg/run.js';

export interface MediaActivityDeps {
  storage: Storage;
  policy: OutboundPolicy;
  maxInputBytes: number;
  fontDir?: string | undefined;
}

const nonRetryable = (message: string, type: string = ERROR_TYPES.media) => ApplicationFailure.create({ message, type, nonRetryable: true });

/** Heartbeats every few seconds with the latest details, so cancellation reaches us even between progress lines. */
function keepAlive(ctx: Context, details: () => unknown): () => void {
  const timer = setInterval(() => ctx.heartbeat(details()), 2_000);
  return () => clearInterval(timer);
}

export function createMediaActivities(deps: MediaActivityDeps): MediaActivities {
  /** Brings the input onto this worker's disk: straight from our storage, or a guarded download. */
  async function fetchInput(url: string, dest: string, signal: AbortSignal): Promise<void> {
    const key = deps.storage.keyFromUrl(url);
    if (key) {
      const obj = await deps.storage.get(key);
      if (obj.size > deps.maxInputBytes) throw nonRetryable(`the input is larger than ${deps.maxInputBytes} bytes`);
      await pipeline(obj.body, createWriteStream(dest), { signal });
      return;
    }
    await downloadToFile(url, dest, { policy: deps.policy, maxBytes: deps.maxInputBytes, timeoutMs: 10 * 60_000, signal });
  }

  return {
    async renderVideo(planInput): Promise<RenderResult> {
      const ctx = Context.current();
      const parsed = RenderPlan.safeParse(planInput);
      if (!parsed.success) {
        throw nonRetryable(`invalid render plan: ${formatIssues(parsed.error).map((i) => `${i.path}: ${i.message}`).join('; ')}`, ERROR_TYPES.invalidInput);
      }
      const plan = parsed.data;
      let progress = 0;
      const stop = keepAlive(ctx, () => ({ pct: progress }));
      const dir = await mkdtemp(join(tmpdir(), 'gptmarket-render-'));
      try {
        const input = join(dir, 'input');
        await fetchInput(plan.input_url, input, ctx.cancellationSignal);
        const info = await probeMedia(input, ctx.cancellationSignal);
        if (!info.video) throw nonRetryable('the input has no video stream');
        const compiled = compileRender(plan, info, { dir, input, fontFile: (font) => fontPath(font, deps.fontDir) });
        for (const f of compiled.textFiles) await writeFile(f.path, f.content, 'utf8');
        await runFfmpeg(compiled.args, {
          signal: ctx.cancellationSignal,
          expectedSeconds: compiled.expectedSeconds,
          timeoutMs: 9 * 60_000,
          onProgress: (pct) => {
            progress = pct;
            ctx.heartbeat({ pct });
          },
        });
        const out = await probeMedia(compiled.outputPath);
        const { size } = await stat(compiled.outputPath);
        const stored = await deps.storage.put(makeKey(plan.output.folder, 'mp4'), createReadStream(compiled.outputPath), {
          contentType: 'video/mp4',
          contentLength: size,
        });
        return {
          ...stored,
          duration_seconds: out.durationSeconds,
          width: out.video?.width ?? 0,
          height: out.video?.height ?? 0,
        };
      } catch (err) {
        if (ctx.cancellationSignal.aborted) throw err;
        if (err instanceof UndecodableMediaError || err instanceof MissingFontError) throw nonRetryable(err.message);
        if (err instanceof FfmpegError) throw ApplicationFailure.create({ message: err.message, type: ERROR_TYPES.media, details: [err.stderrTail] });
        throw err;
      } finally {
        stop();
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
