/** Text → speech: ElevenLabs or Cartesia through the provider API, or the offline voice (a WAV). */
import { Context } from '@temporalio/activity';
import { ERROR_TYPES, type SpeechRequest, type SpeechResult } from '@gptmarket/contracts';
import { makeKey } from '@gptmarket/storage';
import { createSpeech, type SpeechResult as ProviderSpeech } from '@gptmarket/providers';
import { HEARTBEAT_EVERY_MS, keepAlive, nonRetryable } from '@gptmarket/worker-runtime';
import type { ContentActivityDeps } from './deps.js';
import { toActivityFailure } from './failures.js';

/** Duration of a PCM WAV from its `fmt ` byte rate and `data` size; null for anything else. */
export function wavDurationSeconds(data: Buffer): number | null {
  if (data.length < 12 || data.toString('ascii', 0, 4) !== 'RIFF' || data.toString('ascii', 8, 12) !== 'WAVE') return null;
  let byteRate = 0;
  for (let off = 12; off + 8 <= data.length; ) {
    const id = data.toString('ascii', off, off + 4);
    const size = data.readUInt32LE(off + 4);
    if (id === 'fmt ' && off + 16 <= data.length) byteRate = data.readUInt32LE(off + 16);
    if (id === 'data') return byteRate > 0 ? Math.min(size, data.length - off - 8) / byteRate : null;
    off += 8 + size + (size % 2);
  }
  return null;
}

export function createVoiceActivities(deps: ContentActivityDeps) {
  // Without a configured client: the offline voice (createSpeech with no keys speaks locally).
  const speech = deps.providers?.speech ?? createSpeech({});
  return {
    async synthesizeSpeech(req: SpeechRequest): Promise<SpeechResult> {
      if (typeof req.text !== 'string' || !req.text.trim()) throw nonRetryable('synthesizeSpeech: text is empty', ERROR_TYPES.invalidInput);
      const ctx = Context.current();
      const stop = keepAlive(HEARTBEAT_EVERY_MS);
      let audio: ProviderSpeech;
      try {
        audio = await speech.synthesize(
          {
            ...(req.provider ? { provider: req.provider } : {}),
            text: req.text,
            ...(req.voice_id ? { voiceId: req.voice_id } : {}),
            ...(req.model_id ? { modelId: req.model_id } : {}),
            stability: req.stability,
            similarityBoost: req.similarity_boost,
            speed: req.speed,
            language: req.language,
          },
          ctx.cancellationSignal,
        );
      } catch (err) {
        throw toActivityFailure(err, 'speech synthesis failed');
      } finally {
        stop();
      }
      if (audio.data.length === 0) throw nonRetryable('speech synthesis returned no audio', ERROR_TYPES.provider);
      const ext = audio.contentType === 'audio/wav' ? 'wav' : 'mp3';
      const stored = await deps.storage.put(makeKey(req.folder, ext), audio.data, {
        contentType: audio.contentType,
        contentLength: audio.data.length,
      });
      return {
        ...stored,
        provider: audio.provider,
        duration_seconds: audio.contentType === 'audio/wav' ? wavDurationSeconds(audio.data) : null,
      };
    },
  };
}
