import { isTerminalStatus } from '@gptmarket/contracts';
import type { GenerationRow } from '@gptmarket/db';
import type { Logger } from '@gptmarket/runtime';
import type { GenerationFeed } from './generation-feed.js';
import type { GenerationObserver } from './generation-observer.js';
import type { GenerationRecords } from './generation-records.js';

export interface TrackerOptions {
  records: GenerationRecords;
  observer: GenerationObserver;
  /** Whose listeners say which generations are watched. */
  feed: GenerationFeed;
  intervalMs: number;
  slowEvery: number;
  concurrency: number;
  log: Logger;
  /** Runs after every full tick (webhook dispatch). */
  onTick?: () => Promise<void>;
}

/**
 * Follows every unfinished generation so its terminal state reaches the database even when nobody polls: one
 * Temporal observation per generation per tick, however many listeners there are (the observer publishes each
 * change to the feed). Watched generations are observed every tick, the rest every `slowEvery` ticks.
 */
export class GenerationTracker {
  private timer: NodeJS.Timeout | null = null;
  private tick = 0;
  private busy = false;

  constructor(private readonly opts: TrackerOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.opts.intervalMs);
    void this.poll();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One tick: observe what needs observing, a few at a time. */
  async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const full = this.tick % this.opts.slowEvery === 0;
    this.tick++;
    try {
      let rows: GenerationRow[];
      if (full) rows = await this.opts.records.active();
      else {
        rows = [];
        for (const id of this.opts.feed.watched()) {
          const row = await this.opts.records.find(id);
          if (row && !isTerminalStatus(row.status)) rows.push(row);
        }
      }
      const queue = [...rows];
      const worker = async () => {
        for (let row = queue.shift(); row; row = queue.shift()) {
          try {
            await this.opts.observer.refresh(row);
          } catch (err) {
            this.opts.log.warn('tracking a generation failed', { id: row.id, error: (err as Error).message });
          }
        }
      };
      await Promise.all(Array.from({ length: this.opts.concurrency }, worker));
      if (full) await this.opts.onTick?.();
    } catch (err) {
      this.opts.log.warn('tracker tick failed', { error: (err as Error).message });
    } finally {
      this.busy = false;
    }
  }
}
