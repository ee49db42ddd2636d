import { setTimeout as sleep } from 'node:timers/promises';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { isTerminalStatus, PROGRESS_MEMO_KEY, PROGRESS_MEMO_PATCH, type WorkflowProgressMemo } from '@gptmarket/contracts';
import type { GenerationRow } from '@gptmarket/db';
import type { Logger } from '@gptmarket/runtime';
import type { GenerationFeed } from './generation-feed.js';
import { pushedProgress, type GenerationObserver } from './generation-observer.js';
import type { GenerationRecords } from './generation-records.js';
import type { TemporalGateway } from './temporal.js';

/** temporal.api.enums.v1.EventType: a workflow task completed, so the workflow's state (its queries) may have changed. */
const EVENT_TYPE_WORKFLOW_TASK_COMPLETED = 7;
/** temporal.api.enums.v1.EventType: the workflow completed (its result is in the event). */
const EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED = 2;
/** temporal.api.enums.v1.EventType: a marker (a patch, a local activity's answer) was recorded. */
const EVENT_TYPE_MARKER_RECORDED = 25;
/** temporal.api.enums.v1.EventType: the workflow rewrote its memo (its progress, see PROGRESS_MEMO_KEY). */
const EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED = 46;
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
  /**
   * How long a watch waits before each read of the history, so the events of a burst come in one answer: each read
   * costs Temporal a persistence read, and a quick workflow appends a dozen events within milliseconds. A change
   * reaches listeners at most this much later. Default 40 ms.
   */
  batchMs?: number;
  log: Logger;
  /** A generation reached a terminal state (webhook dispatch). */
  onTerminal?: (row: GenerationRow) => void;
  /** Runs after every sweep (webhook dispatch's safety net). */
  onSweep?: () => Promise<void>;
}

/**
 * Follows every unfinished generation so its changes reach the record, SSE listeners and webhooks as they happen,
 * even when nobody polls. Each followed workflow has a watch: a long poll of its history
 * (`GetWorkflowExecutionHistory` with `waitNewEvent`), which Temporal answers as soon as an event is appended
 * (each read `batchMs` after the previous answer, so a burst of events comes in one answer);
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

  /** Whether a long poll follows this generation right now. */
  follows(id: string): boolean {
    return this.watches.has(id);
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

  /**
   * Long-polls the workflow's history until it closes. A run that pushes its progress (the memo `PROGRESS_MEMO_KEY`,
   * one WorkflowPropertiesModified event per change) is followed from the events alone: its steps from the memo, its
   * result from the completion event, no query and no describe. A run from before (no memo) is observed on every
   * completed workflow task, as is every close other than a completion (failure, cancellation, termination).
   */
  private async follow(initial: GenerationRow, signal: AbortSignal): Promise<void> {
    const client = await this.opts.temporal.get();
    let row = initial;
    let nextPageToken: Uint8Array | undefined;
    /** Whether the run pushes its progress (its patch marker or a progress memo seen): then it is never queried. */
    let pushes = false;
    let progress: WorkflowProgressMemo | undefined;
    const batchMs = this.opts.batchMs ?? 40;
    while (!signal.aborted) {
      if (batchMs > 0) await sleep(batchMs, undefined, { signal }).catch(() => {}); // an abort ends the wait early
      if (signal.aborted) return;
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
      const closed = !res.nextPageToken?.length;
      let taskCompleted = false;
      /** The progress each step reached in this batch, in order: every step that started is written, so listeners see it. */
      const steps: WorkflowProgressMemo[] = [];
      let completion: { result: unknown } | undefined;
      for (const event of res.history?.events ?? []) {
        if (event.eventType === EVENT_TYPE_WORKFLOW_TASK_COMPLETED) taskCompleted = true;
        else if (event.eventType === EVENT_TYPE_MARKER_RECORDED && isProgressPatch(event.markerRecordedEventAttributes)) pushes = true;
        else if (event.eventType === EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED) {
          const memo = progressIn(event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields);
          if (!memo) continue;
          pushes = true;
          progress = memo;
          const last = steps.at(-1);
          if (last && last.current_step?.step_id === memo.current_step?.step_id) steps[steps.length - 1] = memo;
          else steps.push(memo);
        } else if (event.eventType === EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED) {
          const payload = event.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0];
          completion = { result: payload ? defaultPayloadConverter.fromPayload(payload) : undefined };
        }
      }
      if (signal.aborted) return;
      // The steps and the completion of one answer in one write (a last quick step and the completion often come
      // together); listeners still see each step that started (see `applyPushed`).
      const completed = completion && pushes ? completion : undefined;
      if (steps.length || completed) row = await this.opts.observer.applyPushed(row, steps, completed);
      if (!completed && closed) row = await this.opts.observer.refresh(row, pushes ? progress : undefined);
      else if (!completed && taskCompleted && !pushes) row = await this.opts.observer.refresh(row);
      if (isTerminalStatus(row.status) || closed) return; // continued as new, or the record was ahead: the sweep follows the next run
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

/** The progress a memo update carries, if it is one of ours and well formed. */
function progressIn(fields: Record<string, Payload> | null | undefined): WorkflowProgressMemo | undefined {
  const payload = fields?.[PROGRESS_MEMO_KEY];
  if (!payload) return undefined;
  try {
    return pushedProgress({ [PROGRESS_MEMO_KEY]: defaultPayloadConverter.fromPayload(payload) });
  } catch {
    return undefined;
  }
}

/** Whether a marker is the patch of runs that push their progress (the SDK's `core_patch` marker naming it). */
function isProgressPatch(
  marker:
    | { markerName?: string | null; details?: Record<string, { payloads?: Array<{ data?: Uint8Array | null }> | null }> | null }
    | null
    | undefined,
): boolean {
  if (marker?.markerName !== 'core_patch') return false;
  return Object.values(marker.details ?? {}).some((p) =>
    (p.payloads ?? []).some((payload) => payload.data && Buffer.from(payload.data).toString('utf8').includes(PROGRESS_MEMO_PATCH)),
  );
}
