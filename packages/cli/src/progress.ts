import type { Generation, ProgressEvent } from '@gptmarket/sdk';

/** How progress is shown: a redrawn bar on a terminal, one line per change otherwise, JSON lines for scripts. */
export type Mode = 'tty' | 'plain' | 'json';

export interface Out {
  write(text: string): void;
  /** Terminal width (tty mode). */
  columns?: number;
}

/** `0:07`, `1:02:03`. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
const BAR_WIDTH = 24;

interface Step {
  id: string;
  name: string;
  startedAt: number;
}

/**
 * Follows one generation's progress and shows it. On a terminal: a line per finished step (`✓ Generate Face 1.2s`)
 * above one redrawn line with the bar, the percentage, the current step and the time so far. Not on a terminal:
 * one line per change. `json`: one JSON object per line (`{"event": "progress", ...}`).
 */
export class ProgressView {
  private readonly startedAt = Date.now();
  private step: Step | null = null;
  private pct = 0;
  private status = 'pending';
  private frame = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastKey = '';

  constructor(
    private readonly out: Out,
    private readonly mode: Mode,
    private readonly id: string,
  ) {
    if (mode === 'tty') {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
      this.draw();
    }
  }

  private elapsed(now = Date.now()): number {
    return now - this.startedAt;
  }

  update(p: ProgressEvent): void {
    const key = JSON.stringify(p);
    if (key === this.lastKey) return;
    this.lastKey = key;
    const now = Date.now();
    this.status = p.status;
    const cur = p.current_step;
    if (cur && cur.step_id !== this.step?.id) {
      this.endStep(now, 'done');
      this.step = { id: cur.step_id, name: cur.step_name, startedAt: now };
    }
    if (cur) this.pct = Math.max(this.pct, cur.progress_pct);
    if (this.mode === 'json') {
      this.out.write(`${JSON.stringify({ event: 'progress', id: this.id, ...p, elapsed_ms: this.elapsed(now) })}\n`);
    } else if (this.mode === 'plain') {
      const step = cur ? `  ${cur.step_name}${cur.message && cur.message !== `${cur.step_name}...` ? ` (${cur.message})` : ''}` : '';
      this.out.write(`[${clock(this.elapsed(now))}] ${String(this.pct).padStart(3)}%  ${p.status}${step}\n`);
    } else {
      this.draw();
    }
  }

  /** A finished step's own line (tty only), above the bar. */
  private endStep(now: number, how: 'done' | 'failed' | 'cancelled', detail = ''): void {
    const step = this.step;
    this.step = null;
    if (!step || this.mode !== 'tty' || step.id === 'complete') return;
    const mark = how === 'done' ? '✓' : how === 'failed' ? '✗' : '■';
    this.clearLine();
    this.out.write(`  ${mark} ${step.name.padEnd(20)} ${seconds(now - step.startedAt).padStart(6)}${detail ? `  ${detail}` : ''}\n`);
  }

  private clearLine(): void {
    this.out.write('\r\x1b[2K');
  }

  private draw(): void {
    if (this.mode !== 'tty') return;
    const filled = Math.round((this.pct / 100) * BAR_WIDTH);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
    const spin = SPINNER[this.frame++ % SPINNER.length];
    const what = this.step?.name ?? (this.status === 'pending' ? 'starting' : this.status);
    let line = `${spin} [${bar}] ${String(this.pct).padStart(3)}%  ${what}  ${clock(this.elapsed())}  ${this.id}`;
    const width = this.out.columns ?? 80;
    if (line.length > width - 1) line = line.slice(0, Math.max(10, width - 2));
    this.clearLine();
    this.out.write(line);
  }

  /** The generation ended: stops redrawing and says how, in words (the JSON line is the caller's, with the files). */
  finish(g: Generation): void {
    if (this.timer) clearInterval(this.timer);
    const now = Date.now();
    if (this.mode === 'json') return;
    if (g.status === 'completed') this.pct = 100;
    if (this.mode === 'tty') {
      // The last step's line (`complete` has none: the bar says it).
      if (this.step?.id !== 'complete') {
        const how = g.status === 'completed' ? 'done' : g.status === 'failed' ? 'failed' : 'cancelled';
        this.endStep(now, how, how === 'done' ? '' : g.status);
      }
      this.draw();
      this.out.write('\n');
    }
    this.out.write(`${g.id} ${g.status} after ${clock(this.elapsed(now))}\n`);
  }

  /** Watching stopped before the end (Ctrl-C): the bar's line is ended so the next message starts clean. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.mode === 'tty') this.out.write('\n');
  }
}
