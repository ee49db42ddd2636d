import { isTerminalStatus } from '@gptmarket/contracts';
import type { GenerationRow } from '@gptmarket/db';
import type { Logger } from '@gptmarket/runtime';
import type { GenerationFeed } from './generation-feed.js';
import type { GenerationObserver } from './generation-observer.js';
import type { GenerationRecords } from './generation-records.js';
import type { TemporalGateway } from './temporal.js';

/** temporal.api.enums.v1.EventType: a workflow task completed, so the workflow's state (its queries) may have changed. */
const EVENT_TYPE_WORKFLOW_TASK_COMPLETED = 7;
/** gRPC NOT_FOUND: the workflow is gone (retention), nothing to follow. */
const GRPC_NOT_FOUND = 5;

export interface TrackerOptions {
  records: GenerationRecords;
  observer: GenerationObserver;
  /** Tells the tracker of every new or changed generation (of every replica), so it follows new ones at once. */
  feed: GenerationFeed;
  temporal: TemporalGateway;
  namespace: string;
  /** The safety net's period: every unfinished record without a live watch is looked at this often. */
  sweepMs: number;
  /** Workflows followed by a long poll at once; the rest are observed by the sweep. */
  maxWatches: number;
  /** Observations at once during a sweep. */
  concurrency: number;
  log: Logger;
  /** A generation reached a terminal state (webhook dispatch). */
  onTerminal?: (row: GenerationRow) => void;
  /** Runs after every sweep (webhook dispatch's safety net). */
  onSweep?: () => Promise<void>;
}

/**
 * Follows every unfinished generation so its changes reach the record, SSE listeners and webhooks as they happen,
 * even when nobody polls. Each followed workflow has a watch: a long poll of its history
 * (`GetWorkflowExecutionHistory` with `waitNewEvent`), which Temporal answers as soon as an event is appended;
 * every completed workflow task (the only moment a workflow's state, hence its queries, can change) and the close
 * event trigger one observation, which writes the change and publishes it.
 *
 * At most `maxWatches` watches run at once (each holds one gRPC stream on the Temporal connection); generations
 * beyond that, and any whose watch ended early (Temporal unreachable, a watch error), are observed by the sweep
 * every `sweepMs`, which also picks up records after a restart or a change of leader.
 */
export class GenerationTracker {
  private readonly watches = new Map<string, AbortController>();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private sweeping = false;

  constructor(private readonly opts: TrackerOptions) {}

  get running(): boolean {
    return this.timer !== null;
  }

  /** Number of workflows followed by a long poll right now. */
  get watching(): number {
    return this.watches.size;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep(), this.opts.sweepMs);
    this.unsubscribe = this.opts.feed.subscribeAll((row) => {
      if (isTerminalStatus(row.status)) this.opts.onTerminal?.(row);
      else this.watch(row);
    });
    void this.sweep();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const watch of this.watches.values()) watch.abort();
    this.watches.clear();
  }

  /** Starts following `row`'s workflow unless it is followed already; false when no watch is free. */
  watch(row: GenerationRow): boolean {
    if (this.watches.has(row.id)) return true;
    if (!this.timer || this.watches.size >= this.opts.maxWatches) return false;
    const abort = new AbortController();
    this.watches.set(row.id, abort);
    void this.follow(row, abort.signal)
      .catch((err: Error & { code?: number }) => {
        if (abort.signal.aborted || err.code === GRPC_NOT_FOUND) return;
        this.opts.log.warn('watching a workflow failed; the sweep takes over', { id: row.id, error: err.message });
      })
      .finally(() => {
        if (this.watches.get(row.id) === abort) this.watches.delete(row.id);
      });
    return true;
  }

  /** Long-polls the workflow's history and observes it on every state change until it closes. */
  private async follow(initial: GenerationRow, signal: AbortSignal): Promise<void> {
    const client = await this.opts.temporal.get();
    let row = initial;
    let nextPageToken: Uint8Array | undefined;
    while (!signal.aborted) {
      const res = await client.connection.withAbortSignal(signal, () =>
        client.workflowService.getWorkflowExecutionHistory({
          namespace: this.opts.namespace,
          execution: { workflowId: row.workflowId },
          nextPageToken,
          waitNewEvent: true,
          skipArchival: true,
          maximumPageSize: 1_000,
        }),
      );
      // No token: the page holds the last event; the workflow has closed.
      const closed = !res.nextPageToken?.length;
      const changed = res.history?.events?.some((e) => e.eventType === EVENT_TYPE_WORKFLOW_TASK_COMPLETED) ?? false;
      if ((closed || changed) && !signal.aborted) {
        row = await this.opts.observer.refresh(row);
        if (isTerminalStatus(row.status)) return;
      }
      if (closed) return; // continued as new, or the record was ahead: the sweep follows the next run
      nextPageToken = res.nextPageToken!;
    }
  }

  /** The safety net: follow (or, beyond the watch limit, observe) every unfinished record not followed yet. */
  async sweep(): Promise<void> {
    if (this.sweeping || !this.timer) return;
    this.sweeping = true;
    try {
      const overflow = (await this.opts.records.active()).filter((row) => !this.watch(row));
      const worker = async () => {
        for (let row = overflow.shift(); row && this.timer; row = overflow.shift()) {
          try {
            await this.opts.observer.refresh(row);
          } catch (err) {
            this.opts.log.warn('tracking a generation failed', { id: row.id, error: (err as Error).message });
          }
        }
      };
      await Promise.all(Array.from({ length: this.opts.concurrency }, worker));
      await this.opts.onSweep?.();
    } catch (err) {
      this.opts.log.warn('tracker sweep failed', { error: (err as Error).message });
    } finally {
      this.sweeping = false;
    }
  }
}
