/**
 * FocusFlow's pipeline as activities: transcribe a stored recording (OpenAI or AssemblyAI through the
 * provider API, or the offline transcriber), then summarise the stored transcript with the
 * `transcript-summary` template. Both results are stored as files; only references travel through history.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import {
  ERROR_TYPES,
  type SummarizeRequest,
  type SummarizeResult,
  type TranscribeRequest,
  type TranscribeResult,
} from '@gptmarket/contracts';
import { makeKey } from '@gptmarket/storage';
import { createLocalLlm } from '@gptmarket/offline';
import { createTranscriber, renderTemplate } from '@gptmarket/providers';
import { HEARTBEAT_EVERY_MS, keepAlive, nonRetryable } from '@gptmarket/worker-runtime';
import type { ContentActivityDeps } from './deps.js';
import { toActivityFailure } from './failures.js';
import { readSmall } from './storage.js';

const MAX_AUDIO_BYTES = 512 * 1024 * 1024;
const MAX_TRANSCRIPT_BYTES = 4 * 1024 * 1024;
export const NO_SPEECH_SUMMARY = '# Summary\n\nNo speech was recognised in the recording, so there is nothing to summarise.\n';

export function createTranscriptActivities(deps: ContentActivityDeps) {
  const { storage } = deps;
  const p = deps.providers ?? {};
  // Without configured clients: the deterministic local transcriber and LLM.
  const transcriber = p.transcriber ?? createTranscriber({});
  const llm = p.llm ?? createLocalLlm();
  return {
    async transcribeAudio(req: TranscribeRequest): Promise<TranscribeResult> {
      const key = storage.keyFromUrl(req.audio_url);
      if (!key) throw nonRetryable('transcribeAudio: the audio must be in our storage', ERROR_TYPES.invalidInput);
      const ctx = Context.current();
      const stop = keepAlive(HEARTBEAT_EVERY_MS);
      const dir = await mkdtemp(join(tmpdir(), 'gptmarket-transcribe-'));
      let result: { text: string; provider: string };
      try {
        const obj = await storage.get(key);
        if (obj.size > MAX_AUDIO_BYTES) {
          obj.body.destroy();
          throw nonRetryable(`transcribeAudio: the audio is larger than ${MAX_AUDIO_BYTES} bytes`, ERROR_TYPES.invalidInput);
        }
        const file = join(dir, `audio${key.slice(key.lastIndexOf('.'))}`);
        await pipeline(obj.body, createWriteStream(file, { mode: 0o600 }), { signal: ctx.cancellationSignal });
        result = await transcriber.transcribe(file, ctx.cancellationSignal);
      } catch (err) {
        if (ctx.cancellationSignal.aborted) throw err;
        throw toActivityFailure(err, 'transcription failed');
      } finally {
        stop();
        await rm(dir, { recursive: true, force: true });
      }
      const text = result.text.trim();
      const body = Buffer.from(text ? `${text}\n` : '', 'utf8');
      const transcript = await storage.put(makeKey(req.folder, 'txt'), body, {
        contentType: 'text/plain; charset=utf-8',
        contentLength: body.length,
      });
      return { transcript, chars: text.length, provider: result.provider };
    },

    async summarizeTranscript(req: SummarizeRequest): Promise<SummarizeResult> {
      const key = storage.keyFromUrl(req.transcript_url);
      if (!key) throw nonRetryable('summarizeTranscript: the transcript must be in our storage', ERROR_TYPES.invalidInput);
      const obj = await storage.get(key);
      const transcript = (await readSmall(obj.body, obj.size, MAX_TRANSCRIPT_BYTES, 'the transcript')).toString('utf8').trim();
      let summary: string;
      let provider: string;
      let model: string;
      if (!transcript) {
        // Nothing to summarise: say so (FocusFlow left such jobs stuck in `summarizing`).
        summary = NO_SPEECH_SUMMARY;
        provider = 'none';
        model = 'none';
      } else {
        const ctx = Context.current();
        const stop = keepAlive(HEARTBEAT_EVERY_MS);
        try {
          const prompt = await renderTemplate(
            'transcript-summary',
            { transcript, meeting_date: req.meeting_date },
            p.promptPath ? { promptPath: p.promptPath } : undefined,
          );
          const answer = await llm.complete(
            { system: prompt.system, user: prompt.user, json: false, temperature: 0.2, maxTokens: 4096, timeoutMs: 240_000 },
            ctx.cancellationSignal,
          );
          summary = answer.content.trim();
          provider = answer.provider;
          model = answer.model;
        } catch (err) {
          throw toActivityFailure(err, 'summary failed');
        } finally {
          stop();
        }
        if (!summary) throw nonRetryable('the summary model returned an empty answer', ERROR_TYPES.provider);
      }
      const body = Buffer.from(summary.endsWith('\n') ? summary : `${summary}\n`, 'utf8');
      const file = await storage.put(makeKey(req.folder, 'md'), body, {
        contentType: 'text/markdown; charset=utf-8',
        contentLength: body.length,
      });
      return { summary_file: file, summary, provider, model };
    },
  };
}
