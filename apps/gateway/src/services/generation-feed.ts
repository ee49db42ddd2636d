import type { GenerationRow } from '@gptmarket/db';
import type { Logger } from '@gptmarket/runtime';

export type GenerationListener = (row: GenerationRow) => void;

/**
 * Fans record changes out to their listeners (SSE streams, keyed by generation id) and to listeners of every
 * change (the tracker). Whatever writes a change publishes it here; `announce` (set when gateway replicas share a
 * PostgreSQL database) tells the other replicas, whose copies arrive through `deliver`.
 */
export class GenerationFeed {
  private readonly listeners = new Map<string, Set<GenerationListener>>();
  private readonly everything = new Set<GenerationListener>();
  /** Tells the other replicas of a change published here. */
  announce: ((row: GenerationRow) => Promise<void>) | null = null;

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

  /** Every change, whichever generation and replica it comes from. */
  subscribeAll(listener: GenerationListener): () => void {
    this.everything.add(listener);
    return () => this.everything.delete(listener);
  }

  /** A change written by this replica: its listeners, then the other replicas'. */
  publish(row: GenerationRow): void {
    this.deliver(row);
    this.announce?.(row).catch((err: Error) =>
      this.log.warn('announcing a change to the other gateways failed', { id: row.id, error: err.message }),
    );
  }

  /** A change to hand to this replica's listeners only. */
  deliver(row: GenerationRow): void {
    for (const listener of [...(this.listeners.get(row.id) ?? []), ...this.everything]) {
      try {
        listener(row);
      } catch (err) {
        this.log.warn('listener failed', { error: (err as Error).message });
      }
    }
  }

  /** Ids of the generations someone listens to on this replica. */
  watched(): string[] {
    return [...this.listeners.keys()];
  }
}
