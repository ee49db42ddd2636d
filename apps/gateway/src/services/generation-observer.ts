import { and, eq } from 'drizzle-orm';
import { WorkflowFailedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import {
  COMPLETE_STEP,
  QUERY_GET_CURRENT_STEP,
  QUERY_GET_STATUS,
  StepProgress,
  WorkflowStatus,
  getGenerationType,
  isTerminalStatus,
  settleCost,
  stepsPaid,
  toMicros,
  usageOf,
  PROGRESS_MEMO_KEY,
  WorkflowProgressMemo,
  type Cost,
  type GenerationError,
} from '@gptmarket/contracts';
import { generationStatements, generations, webhookDeliveries, type Database, type GenerationRow } from '@gptmarket/db';
import type { Logger } from '@gptmarket/runtime';
import type { Storage } from '@gptmarket/storage';
import { describeFailure } from './failures.js';
import type { GenerationListener } from './generation-feed.js';
import type { GenerationRecords } from './generation-records.js';
import { storageKeysIn } from './media-urls.js';
import { isUnavailable, type TemporalGateway } from './temporal.js';

export interface GenerationObserverDeps {
  db: Database;
  temporal: TemporalGateway;
  records: GenerationRecords;
  /** Where the outputs' media lives: a completed record keeps the storage keys behind its URLs. */
  storage: Storage;
  /** Told of every change written (the feed fans it out to SSE listeners). */
  onChange: GenerationListener;
  /**
   * Told of a state that was overtaken before it was written (a quick step and the next one in the same batch of
   * events): this replica's listeners see it with the revision it would have had; nothing stores it.
   */
  onPassing?: GenerationListener;
  /** Told once per generation, by the gateway that wrote its end, of what it cost (see `CostSettled`). */
  onCostSettled?: (event: CostSettled) => void;
  log: Logger;
}

type RecordUpdate = Partial<GenerationRow> & Pick<GenerationRow, 'status'>;

/**
 * A generation's cost is final: it ended (completed, failed or cancelled) and this gateway wrote that. Emitted once
 * per generation across all replicas (only the writer of the terminal change emits it), so a counter of cost by key
 * and model can add `cost.items` here.
 */
export interface CostSettled {
  generationId: string;
  type: string;
  status: 'completed' | 'failed' | 'cancelled';
  apiKeyId: string | null;
  cost: Cost;
}

/** The cost of a generation that has just ended, from its estimate and what its workflow reported. */
function settled(row: GenerationRow, update: RecordUpdate): Pick<GenerationRow, 'cost' | 'costMicros'> | null {
  if (!row.cost || (update.status !== 'completed' && update.status !== 'failed' && update.status !== 'cancelled')) return null;
  const order = (getGenerationType(row.type)?.steps ?? []).map((s) => s.id);
  const endedIn = update.currentStep?.step_id ?? null;
  const cost = settleCost(row.cost, usageOf(row.type, update.output ?? null), stepsPaid(order, update.status, endedIn));
  return { cost, costMicros: toMicros(cost.actual ?? 0) };
}

/** Whether two states show the same status and step (field by field: a step read back from jsonb has its keys reordered). */
function sameState(a: Pick<RecordUpdate, 'status' | 'currentStep'>, b: Pick<RecordUpdate, 'status' | 'currentStep'>): boolean {
  const [x, y] = [a.currentStep ?? null, b.currentStep ?? null];
  if (a.status !== b.status) return false;
  if (!x || !y) return x === y;
  return (
    x.step_id === y.step_id &&
    x.step_name === y.step_name &&
    x.status === y.status &&
    x.progress_pct === y.progress_pct &&
    x.message === y.message
  );
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);

/** The progress a run pushed in its memo (`PROGRESS_MEMO_KEY`), when it has and it is well formed. */
export function pushedProgress(memo: Record<string, unknown> | undefined): WorkflowProgressMemo | undefined {
  const parsed = WorkflowProgressMemo.safeParse(memo?.[PROGRESS_MEMO_KEY]);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The record state a pushed memo shows while its workflow runs: a terminal status in it is not final until the
 * workflow closes, so it counts as running; a memo without a step keeps `step`.
 */
function runningState(memo: WorkflowProgressMemo, step: RecordUpdate['currentStep']): Pick<RecordUpdate, 'status' | 'currentStep'> {
  return { status: isTerminalStatus(memo.status) ? 'running' : memo.status, currentStep: memo.current_step ?? step };
}

/** Brings records up to date with their workflows (status, current step, result or failure) and writes the changes. */
export class GenerationObserver {
  /**
   * History length at the last observation of each running workflow. Queries answer from history, so when it
   * has not grown neither can their answers: the tracker then skips the two queries.
   */
  private readonly seenHistory = new Map<string, number>();

  constructor(private readonly deps: GenerationObserverDeps) {}

  /**
   * Brings a record up to date with its workflow; terminal records are final. A terminal transition with a
   * webhook also records its delivery in the same transaction, so no event is lost if the gateway stops.
   */
  async refresh(row: GenerationRow, known?: WorkflowProgressMemo): Promise<GenerationRow> {
    if (isTerminalStatus(row.status)) return row;
    let client;
    try {
      client = await this.deps.temporal.get();
    } catch {
      return row; // Temporal unreachable: serve what we know
    }
    let update: RecordUpdate;
    try {
      update = await this.observe(client.workflow.getHandle(row.workflowId), row, known);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || isUnavailable(err)) return row;
      throw err;
    }
    return this.apply(row, update);
  }

  /**
   * Writes what a workflow pushed in one answer of its history (its progress memos in order and, when it completed,
   * its result from the completion event) without asking Temporal anything: the tracker's path. Only the last state
   * is written, in one statement; the states it overtook reach this replica's listeners first, with the revisions
   * they would have had (`onPassing`), so a listener still sees every step that started. A terminal status in a
   * progress memo is not final until the workflow closes, so it counts as running; with the completion in the same
   * answer, the memo of the completion step adds nothing and is skipped.
   */
  async applyPushed(
    row: GenerationRow,
    progress: readonly WorkflowProgressMemo[],
    completion?: { result: unknown },
  ): Promise<GenerationRow> {
    let current = row;
    // Another observer may write the record in between (a replica's SSE listener looking at a workflow nobody followed
    // there): then what this batch says is written over its newer revision, as each change would have been on its own.
    for (let attempt = 0; attempt < 3 && !isTerminalStatus(current.status); attempt++) {
      const states: RecordUpdate[] = [];
      let last: Pick<RecordUpdate, 'status' | 'currentStep'> = current;
      for (const memo of progress) {
        if (completion && memo.current_step?.step_id === COMPLETE_STEP.step_id) continue;
        const state = runningState(memo, last.currentStep);
        if (sameState(state, last)) continue;
        states.push(state);
        last = state;
      }
      if (completion) states.push(this.completedUpdate(current, completion.result));
      const final = states.pop();
      if (!final) return current;
      const saved = await this.write(current, final, states);
      if (saved) return saved;
      current = (await this.deps.records.find(row.id)) ?? current;
    }
    return current;
  }

  private completedUpdate(row: GenerationRow, result: unknown): RecordUpdate {
    // Every generation workflow reports COMPLETE_STEP once it completes (GenerationRun.complete), so no query:
    // a query of a closed workflow replays its whole history on a worker (100-500 ms under load).
    const output = result as Record<string, unknown>;
    const warnings = [...new Set([...row.warnings, ...((output?.warnings as string[] | undefined) ?? [])])];
    return {
      status: 'completed',
      output,
      outputKeys: storageKeysIn(output, this.deps.storage),
      warnings,
      error: null,
      currentStep: { ...COMPLETE_STEP },
      completedAt: new Date(),
    };
  }

  /**
   * Writes a change, once: only the first observer of a change writes it (several gateways may observe the same
   * record; the revision decides). A terminal transition with a webhook also records its delivery in the same
   * transaction, so no event is lost if the gateway stops.
   */
  private async apply(row: GenerationRow, update: RecordUpdate): Promise<GenerationRow> {
    if (sameState(update, row)) return row;
    return (await this.write(row, update)) ?? (await this.deps.records.find(row.id)) ?? row;
  }

  /**
   * Writes `update` over revision `row.revision` (the states in `passed` took the revisions between: this replica's
   * listeners are told of them first); null when the record is no longer at that revision (someone else wrote it).
   */
  private async write(row: GenerationRow, update: RecordUpdate, passed: readonly RecordUpdate[] = []): Promise<GenerationRow | null> {
    const terminal = isTerminalStatus(update.status);
    const cost = terminal ? settled(row, update) : null;
    if (cost) Object.assign(update, cost);
    const set = { ...update, updatedAt: new Date(), revision: row.revision + passed.length + 1 };
    // One statement, unless the change owes a webhook delivery: then the delivery is recorded with it, atomically.
    const saved =
      terminal && row.webhookUrl
        ? await this.deps.db.transaction(async (tx) => {
            const [next] = await tx
              .update(generations)
              .set(set)
              .where(and(eq(generations.id, row.id), eq(generations.revision, row.revision)))
              .returning();
            if (next?.webhookUrl) {
              await tx
                .insert(webhookDeliveries)
                .values({
                  id: `whd_${next.id.slice(4)}_${next.status}`,
                  generationId: next.id,
                  event: `generation.${next.status}`,
                  url: next.webhookUrl,
                  status: 'pending',
                })
                .onConflictDoNothing();
            }
            return next;
          })
        : await generationStatements(this.deps.db).update(row.id, row.revision, set);
    if (!saved) return null;
    passed.forEach((state, i) => this.deps.onPassing?.({ ...row, ...state, revision: row.revision + i + 1, updatedAt: saved.updatedAt }));
    this.deps.onChange(saved);
    if (cost?.cost && this.deps.onCostSettled) {
      const status = saved.status as CostSettled['status'];
      this.deps.onCostSettled({ generationId: saved.id, type: saved.type, status, apiKeyId: saved.apiKeyId, cost: cost.cost });
    }
    return saved;
  }

  private async currentStep(handle: WorkflowHandle): Promise<StepProgress | null> {
    try {
      return StepProgress.nullable().parse(await withTimeout(handle.query(QUERY_GET_CURRENT_STEP), 5_000));
    } catch {
      return null;
    }
  }

  private async observe(handle: WorkflowHandle, row: GenerationRow, known?: WorkflowProgressMemo): Promise<RecordUpdate> {
    const { status, historyLength, memo } = await handle.describe();
    // A run that pushes its progress has it in its memo, which the describe brings: no query (a query of a running
    // workflow is a round trip to a worker; of a closed one, a replay of its whole history there).
    const pushed = pushedProgress(memo);
    // The last step a closed workflow pushed is its last step (as the caller's history read it, else from the memo).
    const last = known ?? pushed;
    const lastStep = () => (last ? Promise.resolve(last.current_step) : this.currentStep(handle));
    if (status.name !== 'RUNNING') this.seenHistory.delete(row.workflowId);
    switch (status.name) {
      case 'RUNNING':
      case 'CONTINUED_AS_NEW': {
        // A running run is read from its own memo only (what a caller knew may be of a run before it, e.g. after a reset).
        if (pushed && status.name === 'RUNNING') return runningState(pushed, row.currentStep);
        if (this.seenHistory.get(row.workflowId) === historyLength && row.status === 'running') {
          return { status: row.status, currentStep: row.currentStep };
        }
        if (this.seenHistory.size > 10_000) this.seenHistory.clear();
        this.seenHistory.set(row.workflowId, historyLength);
        const [wfStatus, step] = await Promise.all([
          withTimeout(handle.query<string>(QUERY_GET_STATUS), 5_000).catch(() => 'running'),
          this.currentStep(handle),
        ]);
        const parsed = WorkflowStatus.safeParse(wfStatus);
        const live = parsed.success && !isTerminalStatus(parsed.data) ? parsed.data : 'running';
        return { status: live, currentStep: step ?? row.currentStep };
      }
      case 'COMPLETED':
        return this.completedUpdate(row, await handle.result());
      case 'CANCELLED':
        return { status: 'cancelled', currentStep: await lastStep(), completedAt: new Date() };
      default: {
        // FAILED, TERMINATED, TIMED_OUT
        const [step, outcome] = await Promise.all([
          lastStep(),
          handle.result().then(
            () => null,
            (err: unknown) => ({ err }),
          ),
        ]);
        let error: GenerationError;
        if (!outcome) error = describeFailure(null, step?.step_id ?? null);
        else {
          const { err } = outcome;
          if (err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure) {
            return { status: 'cancelled', currentStep: step, completedAt: new Date() };
          }
          error = describeFailure(err, step && step.status === 'failed' ? step.step_id : null);
        }
        return { status: 'failed', error, currentStep: step, completedAt: new Date() };
      }
    }
  }
}
