import { z } from 'zod';
import { BaseGenerationRequest, WorkflowCredential, type StepDefinition } from '../common.js';

export const TRANSCRIPT_SUMMARY_WORKFLOW = 'TranscriptSummaryWorkflow';

/** What a caller asks for (the HTTP API's `input`). */
export const TranscriptSummaryRequest = BaseGenerationRequest.extend({
  /** A recording (audio or video) to transcribe: http/https, ours or fetched through the guarded downloader. */
  media_url: z.url({ protocol: /^https?$/ }).max(4096),
  /** The date relative dates in the recording are resolved against (YYYY-MM-DD); the start date (UTC) when null. */
  meeting_date: z.iso.date().nullable().default(null),
});
/** What the workflow receives: the request and its credential. */
export const TranscriptSummaryInput = TranscriptSummaryRequest.extend(WorkflowCredential);
export type TranscriptSummaryInput = z.infer<typeof TranscriptSummaryInput>;

export const TranscriptSummaryOutput = z.object({
  /** The extracted audio track, in our storage. */
  audio_url: z.string(),
  /** Plain-text transcript (`.txt`) and Markdown summary (`.md` stored as text), in our storage. */
  transcript_url: z.string(),
  summary_url: z.string(),
  /** The summary inline (as FocusFlow stored it), and the transcript's length. */
  summary: z.string(),
  transcript_chars: z.number().int(),
  meeting_date: z.string(),
  providers: z.object({ transcription: z.string(), summary: z.string() }),
  warnings: z.array(z.string()),
});
export type TranscriptSummaryOutput = z.infer<typeof TranscriptSummaryOutput>;

export const TRANSCRIPT_SUMMARY_STEPS = {
  extract: { id: 'extract', name: 'Extract Audio', pct: 10 },
  transcribe: { id: 'transcribe', name: 'Transcribe', pct: 30 },
  summarize: { id: 'summarize', name: 'Summarize', pct: 70 },
  upload: { id: 'upload', name: 'Save Results', pct: 90 },
} as const satisfies Record<string, StepDefinition>;
