import { spawn, type ChildProcess } from 'node:child_process';
import { metrics, withSpan } from '@gptmarket/runtime';

export class FfmpegError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderrTail: string[],
  ) {
    super(message);
    this.name = 'FfmpegError';
  }
}

export interface RunOptions {
  signal?: AbortSignal | undefined;
  /** Expected output duration, to turn FFmpeg's out_time into a percentage. */
  expectedSeconds?: number | undefined;
  onProgress?: ((pct: number) => void) | undefined;
  /** Hard limit; the process is killed past it. */
  timeoutMs?: number | undefined;
  /** Lower CPU priority by this much (`nice -n`, which execs ffmpeg: same process, killed the same way). */
  nice?: number | undefined;
}

/** Every ffmpeg we started and that still runs: killed if this process exits (no orphans on shutdown or crash). */
const live = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

/**
 * Runs ffmpeg (argument list, no shell) and reads its `-progress pipe:1` feed. On abort or timeout the
 * process is killed, so no FFmpeg outlives its activity. Each run is a span, its wall-clock seconds are measured,
 * and (when the output's duration is known) how many seconds of media it rendered per second.
 */
export function runFfmpeg(args: string[], opts: RunOptions = {}): Promise<void> {
  const media = opts.expectedSeconds;
  return withSpan('ffmpeg', media ? { 'gptmarket.media_seconds': media } : {}, async () => {
    const end = metrics.ffmpegSeconds.startTimer();
    try {
      await spawnFfmpeg(args, opts);
    } catch (err) {
      end({ outcome: opts.signal?.aborted ? 'cancelled' : 'failed' });
      throw err;
    }
    const seconds = end({ outcome: 'completed' });
    if (media && seconds > 0) metrics.ffmpegRealtime.observe(media / seconds);
  });
}

function spawnFfmpeg(args: string[], opts: RunOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(opts.signal.reason ?? new Error('aborted'));
    const [command, argv] = opts.nice ? ['nice', ['-n', String(opts.nice), 'ffmpeg', ...args]] : ['ffmpeg', args];
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    const stderr: string[] = [];
    let killedFor: Error | null = null;
    const kill = (why: Error) => {
      killedFor = why;
      child.kill('SIGKILL');
    };
    const onAbort = () => kill(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('cancelled'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = opts.timeoutMs ? setTimeout(() => kill(new Error(`ffmpeg timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs) : null;

    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^out_time_(?:us|ms)=(\d+)/.exec(line);
        if (m && opts.expectedSeconds && opts.onProgress) {
          const seconds = Number(m[1]) / 1e6;
          opts.onProgress(Math.max(0, Math.min(100, Math.round((seconds / opts.expectedSeconds) * 100))));
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) stderr.push(line.trim());
      if (stderr.length > 200) stderr.splice(0, stderr.length - 200);
    });
    child.on('error', (err) => {
      cleanup();
      reject(new FfmpegError(`could not start ffmpeg: ${err.message}`, null, []));
    });
    child.on('close', (code) => {
      cleanup();
      if (killedFor) return reject(killedFor);
      if (code === 0) {
        opts.onProgress?.(100);
        return resolve();
      }
      const tail = stderr.slice(-12);
      reject(new FfmpegError(`ffmpeg exited with code ${code}: ${tail.slice(-3).join(' | ') || 'no error output'}`, code, tail));
    });
    function cleanup() {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  });
}
