import { encodeWav, synthesizeTone } from './media/index.js';

/** The offline voice: 16-bit mono WAV, about 70 ms per character (1–120 s). */
export function localSpeech(req: { text: string; speed?: number | undefined }): {
  data: Buffer;
  contentType: 'audio/wav';
  provider: 'local';
} {
  const seconds = Math.min(120, Math.max(1, (req.text.length * 0.07) / (req.speed ?? 1)));
  const sampleRate = 22050;
  const samples = synthesizeTone({ seconds, sampleRate, seed: req.text } as Parameters<typeof synthesizeTone>[0]);
  return { data: encodeWav(samples, sampleRate, 1), contentType: 'audio/wav', provider: 'local' };
}

/** The offline transcript of a recording of `bytes` bytes. */
export const localTranscript = (bytes: number): { text: string; provider: 'local' } => ({
  text: `[Speaker A]: Offline transcript of a ${bytes}-byte recording (no transcription provider configured).`,
  provider: 'local',
});
