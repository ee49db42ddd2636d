import type { GenerationRow } from '@gptmarket/db';
import type { Logger } from '@gptmarket/runtime';

export type GenerationListener = (row: GenerationRow) => void;

/**
 * Fans record changes out to their listeners (SSE streams), keyed by generation id. The observer publishes every
 * change it writes; the tracker reads which generations are watched to observe those on every tick.
 */
export class GenerationFeed {
  private readonly listeners = new Map<string, Set<GenerationListener>>();

  constructor(private readonly log: Logger) {}

  subscribe(id: string, listener: GenerationListener): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(id);
    };
  }

  publish(row: GenerationRow): void {
    for (const listener of this.listeners.get(row.id) ?? []) {
      try {
        listener(row);
      } catch (err) {
        this.log.warn('listener failed', { error: (err as Error).message });
      }
    }
  }

  /** Ids of the generations someone listens to. */
  watched(): string[] {
    return [...this.listeners.keys()];
  }
}
