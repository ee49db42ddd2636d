/**
 * ElevenLabs text-to-speech through the official `@elevenlabs/elevenlabs-js` SDK (ELEVENLABS_BASE_URL).
 * Non-streaming `POST /v1/text-to-speech/{voice_id}?output_format=mp3_44100_128` with every voice setting
 * actually sent (language_code only to models that take it); the answer must be an MP3 stream (checked), the
 * HTTP status is checked by the SDK.
 */
import type { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import { ProviderError, parseRetryAfter, reasonFromBody, codeForStatus, toProviderError } from '../errors.js';
import { providerLimiter, type ProviderLimiter } from '../limits.js';
import { isMp3 } from '../speech/containers.js';

export interface ElevenLabsEnvInput {
  ELEVENLABS_API_KEY?: string | undefined;
  ELEVENLABS_BASE_URL?: string | undefined;
}

export interface ElevenLabsRequest {
  text: string;
  voiceId?: string | undefined;
  modelId?: string | undefined;
  stability?: number | undefined;
  similarityBoost?: number | undefined;
  style?: number | undefined;
  speed?: number | undefined;
  language?: string | undefined;
}

export const ELEVENLABS_DEFAULT_VOICE = '21m00Tcm4TlvDq8ikWAM';
export const ELEVENLABS_DEFAULT_MODEL = 'eleven_multilingual_v2';

export interface ElevenLabsSpeech {
  readonly limiter: ProviderLimiter;
  synthesize(req: ElevenLabsRequest, signal?: AbortSignal): Promise<Buffer>;
}

function classify(err: unknown, signal?: AbortSignal): ProviderError {
  const e = err as { statusCode?: number; body?: unknown; rawResponse?: { headers?: Headers } };
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400) {
    const retryAfterMs = parseRetryAfter(e.rawResponse?.headers);
    const reason = reasonFromBody(typeof e.body === 'string' ? e.body : JSON.stringify(e.body ?? ''));
    return new ProviderError('elevenlabs', codeForStatus(e.statusCode), `elevenlabs HTTP ${e.statusCode}: ${reason}`, {
      status: e.statusCode,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  return toProviderError('elevenlabs', err, signal);
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

export function createElevenLabs(env: ElevenLabsEnvInput, opts: { limiter?: ProviderLimiter } = {}): ElevenLabsSpeech {
  if (!env.ELEVENLABS_API_KEY) throw new Error('createElevenLabs: ELEVENLABS_API_KEY is not set');
  const apiKey = env.ELEVENLABS_API_KEY;
  // The SDK is loaded on the first call: its thousands of modules would add seconds to every worker start (and so
  // to every recovery from a crash), also on workers that never speak.
  let client: Promise<ElevenLabsClient> | undefined;
  const sdk = () =>
    (client ??= import('@elevenlabs/elevenlabs-js').then(
      ({ ElevenLabsClient }) =>
        new ElevenLabsClient({ apiKey, ...(env.ELEVENLABS_BASE_URL ? { baseUrl: env.ELEVENLABS_BASE_URL } : {}), maxRetries: 0 }),
    ));
  const limiter = opts.limiter ?? providerLimiter('elevenlabs');
  return {
    limiter,
    synthesize(req, signal) {
      return limiter.run(
        async () => {
          let data: Buffer;
          const modelId = req.modelId ?? ELEVENLABS_DEFAULT_MODEL;
          try {
            const stream = await (await sdk()).textToSpeech.convert(
              req.voiceId ?? ELEVENLABS_DEFAULT_VOICE,
              {
                text: req.text,
                modelId,
                outputFormat: 'mp3_44100_128',
                // The API documents language_code as unsupported by the multilingual v2 models (they detect it).
                ...(req.language && !/multilingual_v2/.test(modelId) ? { languageCode: req.language } : {}),
                voiceSettings: {
                  stability: req.stability ?? 0.5,
                  similarityBoost: req.similarityBoost ?? 0.75,
                  style: req.style ?? 0,
                  useSpeakerBoost: true,
                  ...(req.speed !== undefined ? { speed: req.speed } : {}),
                },
              },
              { maxRetries: 0, timeoutInSeconds: 180, ...(signal ? { abortSignal: signal } : {}) },
            );
            data = await readAll(stream);
          } catch (err) {
            throw classify(err, signal);
          }
          if (!isMp3(data))
            throw new ProviderError('elevenlabs', 'invalid_output', 'elevenlabs: the answer is not an MP3 stream', { retryable: false });
          return data;
        },
        { model: req.modelId ?? ELEVENLABS_DEFAULT_MODEL, ...(signal ? { signal } : {}) },
      );
    },
  };
}
