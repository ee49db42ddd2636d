/**
 * Transcription: AssemblyAI (speaker labels) when ASSEMBLYAI_API_KEY is set, else OpenAI audio
 * transcription when OPENAI_API_KEY is set, else a deterministic local transcript.
 */
import { promises as fsp } from 'node:fs';
import { localTranscript } from '@gptmarket/offline';
import { createAssemblyAi, type AssemblyAiClient } from '../assemblyai/index.js';
import { createOpenAi, type OpenAiClient } from '../openai/index.js';

export interface TranscriptionEnvInput {
  OPENAI_API_KEY?: string | undefined;
  OPENAI_BASE_URL?: string | undefined;
  OPENAI_TRANSCRIPTION_MODEL?: string | undefined;
  ASSEMBLYAI_API_KEY?: string | undefined;
  ASSEMBLYAI_BASE_URL?: string | undefined;
}
export interface TranscriptResult {
  text: string;
  provider: 'openai' | 'assemblyai' | 'local';
}
export interface Transcriber {
  transcribe(filePath: string, signal?: AbortSignal): Promise<TranscriptResult>;
}

export function createTranscriber(
  env: TranscriptionEnvInput,
  opts: { openai?: OpenAiClient; assemblyai?: AssemblyAiClient; pollMs?: number } = {},
): Transcriber {
  const assembly = opts.assemblyai ?? (env.ASSEMBLYAI_API_KEY ? createAssemblyAi(env) : undefined);
  const openai = opts.openai ?? (env.OPENAI_API_KEY ? createOpenAi(env) : undefined);
  const model = env.OPENAI_TRANSCRIPTION_MODEL ?? 'whisper-1';
  return {
    async transcribe(filePath, signal) {
      if (assembly)
        return {
          text: await assembly.transcribe(filePath, signal, opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
          provider: 'assemblyai',
        };
      if (openai) return { text: await openai.transcribe(filePath, model, signal), provider: 'openai' };
      return localTranscript((await fsp.stat(filePath)).size);
    },
  };
}
