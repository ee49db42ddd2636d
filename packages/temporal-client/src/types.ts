/**
 * The types of the Python system's generated `types.ts`, derived from the platform's contracts (so they cannot
 * drift): each workflow's input (what a direct Temporal client sends, `secret_key` included) and output, the
 * query answers, and the progress object of `getWorkflowProgress`.
 */
import type { z } from 'zod';
import type { GENERATION_TYPES, StepProgress, WorkflowStatus } from '@gptmarket/sdk/contracts';

export type { StepProgress, WorkflowStatus };

type Types = typeof GENERATION_TYPES;

/** A workflow of the registry by its id: `ruby`, `slideshows_pinterest`, `voiceover`, `transcript_summary`, `hello_world`. */
export type WorkflowId = keyof Types;
/** Its Temporal workflow type: `RubyWorkflow`, `SlideshowsPinterestWorkflow`, ... */
export type WorkflowClass = Types[WorkflowId]['workflowType'];
/** The id of a workflow given by id or by workflow type. */
export type WorkflowIdOf<W extends WorkflowId | WorkflowClass> = W extends WorkflowId
  ? W
  : { [K in WorkflowId]: Types[K]['workflowType'] extends W ? K : never }[WorkflowId];

/** What each workflow takes (`z.input` of its contract: defaulted fields optional, `secret_key` included). */
export type WorkflowInputMap = { [K in WorkflowId]: z.input<Types[K]['input']> };
/** What each workflow returns. */
export type WorkflowOutputMap = { [K in WorkflowId]: z.output<Types[K]['output']> };

export type RubyInput = WorkflowInputMap['ruby'];
export type RubyOutput = WorkflowOutputMap['ruby'];
export type SlideshowsPinterestInput = WorkflowInputMap['slideshows_pinterest'];
export type SlideshowsPinterestOutput = WorkflowOutputMap['slideshows_pinterest'];
export type VoiceoverInput = WorkflowInputMap['voiceover'];
export type VoiceoverOutput = WorkflowOutputMap['voiceover'];
export type TranscriptSummaryInput = WorkflowInputMap['transcript_summary'];
export type TranscriptSummaryOutput = WorkflowOutputMap['transcript_summary'];
export type HelloWorldInput = WorkflowInputMap['hello_world'];
export type HelloWorldOutput = WorkflowOutputMap['hello_world'];

/** What `getWorkflowProgress` answers (the Python package's shape). */
export interface WorkflowProgress<TResult = unknown> {
  workflowId: string;
  status: WorkflowStatus;
  /** Temporal's execution status: `RUNNING`, `COMPLETED`, `FAILED`, ..., or `NOT_FOUND`. */
  executionStatus: string;
  currentStep: StepProgress | null;
  result?: TResult;
  /** Why it failed: the workflow's own failure message (e.g. `Authentication failed: invalid secret_key`). */
  error?: string;
}
