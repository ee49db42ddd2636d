import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import {
  REWRITE_IGNORED_WARNING,
  TRANSCRIPT_SUMMARY_STEPS as STEPS,
  TranscriptSummaryInput,
  type GenerationActivities,
  type TranscriptSummaryOutput,
} from '@gptmarket/contracts';
import { fast, paid } from './options.js';
import { GenerationRun } from './run.js';

const transcriber = proxyActivities<GenerationActivities>(paid('30m'));
const llm = proxyActivities<GenerationActivities>(fast('5m'));

/** `TranscriptSummaryWorkflow` (FocusFlow's pipeline): audio extraction → transcript → summary, all stored. */
export async function TranscriptSummaryWorkflow(rawInput: unknown): Promise<TranscriptSummaryOutput> {
  const run = new GenerationRun();
  return run.execute(async () => {
    const input = await run.start(TranscriptSummaryInput, rawInput);
    const media = run.media('15m');
    const warnings = input.rewrite_enabled ? [REWRITE_IGNORED_WARNING] : [];
    // Workflow time is deterministic: the date the workflow started, in UTC.
    const meetingDate = input.meeting_date ?? new Date(workflowInfo().startTime).toISOString().slice(0, 10);

    const audio = await run.step(STEPS.extract, () =>
      media.extractAudio({ input_url: input.media_url, format: 'm4a', output: { folder: 'transcripts/audio' } }),
    );

    const transcript = await run.step(STEPS.transcribe, () =>
      transcriber.transcribeAudio({ audio_url: audio.url, folder: 'transcripts/text' }),
    );
    if (transcript.chars === 0) warnings.push('No speech was recognised in the recording');

    const summary = await run.step(STEPS.summarize, () =>
      llm.summarizeTranscript({ transcript_url: transcript.transcript.url, meeting_date: meetingDate, folder: 'transcripts/summaries' }),
    );

    const output: TranscriptSummaryOutput = {
      audio_url: audio.url,
      transcript_url: transcript.transcript.url,
      summary_url: summary.summary_file.url,
      summary: summary.summary,
      transcript_chars: transcript.chars,
      meeting_date: meetingDate,
      providers: { transcription: transcript.provider, summary: summary.provider },
      warnings,
    };
    // The manifest leaves the summary text out: it is stored beside it.
    await run.step(STEPS.upload, () => run.saveManifest('transcripts', { ...output, summary: undefined }, { aiGenerated: false }));
    run.complete();
    return output;
  });
}
