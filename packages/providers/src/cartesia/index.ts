/**
 * Cartesia text-to-speech through the official `@cartesia/cartesia-js` SDK (CARTESIA_BASE_URL):
 * `POST /tts/bytes` with an MP3 (default) or WAV container, never raw PCM, so the bytes stored are a real
 * audio file. Speed goes in `generation_config.speed`; the answer's container is checked.
 */
import Cartesia from '@cartesia/cartesia-js';
import { ProviderError, toProviderError } from '../errors.js';
import { providerLimiter, type ProviderLimiter } from '../limits.js';
import { isMp3, isWav } from '../speech/containers.js';

export interface CartesiaEnvInput {
  CARTESIA_API_KEY?: string | undefined;
  CARTESIA_BASE_URL?: string | undefined;
}

export interface CartesiaRequest {
  text: string;
  voiceId?: string | undefined;
  modelId?: string | undefined;
  speed?: number | undefined;
  language?: string | undefined;
  container?: 'mp3' | 'wav';
}

export const CARTESIA_DEFAULT_MODEL = 'sonic-3';
export const CARTESIA_DEFAULT_VOICE = 'a0e99841-438c-4a64-b679-ae501e7d6091';

export interface CartesiaSpeech {
  readonly limiter: ProviderLimiter;
  synthesize(req: CartesiaRequest, signal?: AbortSignal): Promise<{ data: Buffer; contentType: 'audio/mpeg' | 'audio/wav' }>;
}

export function createCartesia(env: CartesiaEnvInput, opts: { limiter?: ProviderLimiter } = {}): CartesiaSpeech {
  if (!env.CARTESIA_API_KEY) throw new Error('createCartesia: CARTESIA_API_KEY is not set');
  const sdk = new Cartesia({
    apiKey: env.CARTESIA_API_KEY,
    ...(env.CARTESIA_BASE_URL ? { baseURL: env.CARTESIA_BASE_URL } : {}),
    maxRetries: 0,
  });
  const limiter = opts.limiter ?? providerLimiter('cartesia');
  return {
    limiter,
    synthesize(req, signal) {
      const container = req.container ?? 'mp3';
      return limiter.run(
        async () => {
          let data: Buffer;
          try {
            const res = await sdk.tts.generate(
              {
                model_id: req.modelId ?? CARTESIA_DEFAULT_MODEL,
                transcript: req.text,
                voice: { mode: 'id', id: req.voiceId ?? CARTESIA_DEFAULT_VOICE },
                output_format:
                  container === 'mp3'
                    ? { container: 'mp3', sample_rate: 44100, bit_rate: 128000 }
                    : { container: 'wav', encoding: 'pcm_s16le', sample_rate: 44100 },
                language: (req.language ?? 'en') as 'en',
                ...(req.speed !== undefined ? { generation_config: { speed: req.speed } } : {}),
              },
              { timeout: 180_000, ...(signal ? { signal } : {}) },
            );
            data = Buffer.from(await res.arrayBuffer());
          } catch (err) {
            throw toProviderError('cartesia', err, signal);
          }
          const ok = container === 'mp3' ? isMp3(data) : isWav(data);
          if (!ok)
            throw new ProviderError('cartesia', 'invalid_output', `cartesia: the answer is not a ${container.toUpperCase()} file`, {
              retryable: false,
            });
          return { data, contentType: container === 'mp3' ? 'audio/mpeg' : 'audio/wav' };
        },
        { model: req.modelId ?? CARTESIA_DEFAULT_MODEL, ...(signal ? { signal } : {}) },
      );
    },
  };
}
