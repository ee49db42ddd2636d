/**
 * Speech synthesis over ElevenLabs, Cartesia and the offline local voice (a WAV tone whose length follows
 * the text). The provider asked for is used when its key is set; otherwise the first configured one; with
 * no key the local voice answers, and the result's `provider` says which one really spoke.
 */
import { localSpeech } from '@gptmarket/offline';
import { createCartesia, type CartesiaSpeech } from '../cartesia/index.js';
import { createElevenLabs, type ElevenLabsSpeech } from '../elevenlabs/index.js';

export { isMp3, isWav } from './containers.js';

export interface SpeechRequest {
  provider?: 'elevenlabs' | 'cartesia' | 'local';
  text: string;
  voiceId?: string;
  modelId?: string;
  stability?: number;
  similarityBoost?: number;
  speed?: number;
  language?: string;
}
export interface SpeechResult {
  data: Buffer;
  contentType: 'audio/mpeg' | 'audio/wav';
  provider: string;
}
export interface SpeechClient {
  synthesize(req: SpeechRequest, signal?: AbortSignal): Promise<SpeechResult>;
}
export interface SpeechEnvInput {
  ELEVENLABS_API_KEY?: string | undefined;
  ELEVENLABS_BASE_URL?: string | undefined;
  CARTESIA_API_KEY?: string | undefined;
  CARTESIA_BASE_URL?: string | undefined;
}

export function createSpeech(env: SpeechEnvInput, opts: { elevenlabs?: ElevenLabsSpeech; cartesia?: CartesiaSpeech } = {}): SpeechClient {
  const eleven = opts.elevenlabs ?? (env.ELEVENLABS_API_KEY ? createElevenLabs(env) : undefined);
  const cartesia = opts.cartesia ?? (env.CARTESIA_API_KEY ? createCartesia(env) : undefined);
  return {
    async synthesize(req, signal) {
      const wanted = req.provider ?? (eleven ? 'elevenlabs' : cartesia ? 'cartesia' : 'local');
      const pick =
        wanted === 'elevenlabs' && eleven
          ? 'elevenlabs'
          : wanted === 'cartesia' && cartesia
            ? 'cartesia'
            : wanted === 'local'
              ? 'local'
              : eleven
                ? 'elevenlabs'
                : cartesia
                  ? 'cartesia'
                  : 'local';
      if (pick === 'elevenlabs') {
        const data = await eleven!.synthesize(
          {
            text: req.text,
            voiceId: req.voiceId,
            modelId: req.modelId,
            stability: req.stability,
            similarityBoost: req.similarityBoost,
            speed: req.speed,
            language: req.language,
          },
          signal,
        );
        return { data, contentType: 'audio/mpeg', provider: 'elevenlabs' };
      }
      if (pick === 'cartesia') {
        const r = await cartesia!.synthesize(
          { text: req.text, voiceId: req.voiceId, modelId: req.modelId, speed: req.speed, language: req.language },
          signal,
        );
        return { ...r, provider: 'cartesia' };
      }
      return localSpeech(req);
    },
  };
}
