import { WorkflowStatus, isTerminalStatus } from '@gptmarket/contracts';
import type { GenerationRow } from '@gptmarket/db';
import type { Logger } from '@gptmarket/runtime';
import type { GenerationService } from './generations.js';

export type GenerationListener = (row: GenerationRow) => void;

/**
 * Follows every unfinished generation so its terminal state reaches the database even when nobody polls,
 * and fans changes out to SSE listeners: one Temporal observation per generation per tick, however many
 * listeners there are. Watched generations are observed every tick, the rest every `slowEvery` ticks.
 */
export class GenerationTracker {
  private readonly listeners = new Map<string, Set<GenerationListener>>();
  private timer: NodeJS.Timeout | null = null;
  private tick = 0;
  private busy = false;

  constructor(
    private readonly service: GenerationService,
    private readonly opts: { intervalMs: number; slowEvery: number; concurrency: number; log: Logger; onTick?: () => Promise<void> },
  ) {
    service.onChange = (row) => this.emit(row);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.opts.intervalMs);
    void this.poll();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  subscribe(id: string, listener: GenerationListener): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(id);
    };
  }

  listenerCount(id?: string): number {
    if (id) return this.listeners.get(id)?.size ?? 0;
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  private emit(row: GenerationRow): void {
    for (const listener of this.listeners.get(row.id) ?? []) {
      try {
        listener(row);
      } catch (err) {
        this.opts.log.warn('listener failed', { error: (err as Error).message });
      }
    }
  }

  /** One tick: observe what needs observing, a few at a time. */
  async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const full = this.tick % this.opts.slowEvery === 0;
    this.tick++;
    try {
      let rows: GenerationRow[];
      if (full) rows = await this.service.active();
      else {
        const watched = [...this.listeners.keys()];
        rows = [];
        for (const id of watched) {
          const row = await this.service.find(id);
          if (row && !isTerminalStatus(WorkflowStatus.parse(row.status))) rows.push(row);
        }
      }
      const queue = [...rows];
      const worker = async () => {
        for (let row = queue.shift(); row; row = queue.shift()) {
          try {
            await this.service.refresh(row);
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
