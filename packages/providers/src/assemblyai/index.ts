/**
 * AssemblyAI transcription over its REST API (plain fetch): upload the file (`POST /v2/upload`), create a
 * transcript with speaker labels (`POST /v2/transcript`), poll `GET /v2/transcript/{id}` until completed
 * or error. Speaker turns are rendered as `[Speaker A]: ...` lines.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { Readable } from 'node:stream';
import { httpProviderError, ProviderError, toProviderError } from '../errors.js';
import { providerLimiter, sleep, type ProviderLimiter } from '../limits.js';

export interface AssemblyAiEnvInput {
  ASSEMBLYAI_API_KEY?: string | undefined;
  ASSEMBLYAI_BASE_URL?: string | undefined;
}
export const ASSEMBLYAI_DEFAULT_URL = 'https://api.assemblyai.com';

export interface AssemblyAiClient {
  transcribe(filePath: string, signal?: AbortSignal, opts?: { pollMs?: number; timeoutMs?: number }): Promise<string>;
}

export function createAssemblyAi(env: AssemblyAiEnvInput, opts: { limiter?: ProviderLimiter } = {}): AssemblyAiClient {
  const key = env.ASSEMBLYAI_API_KEY;
  if (!key) throw new Error('createAssemblyAi: ASSEMBLYAI_API_KEY is not set');
  const base = (env.ASSEMBLYAI_BASE_URL ?? ASSEMBLYAI_DEFAULT_URL).replace(/\/+$/, '');
  const limiter = opts.limiter ?? providerLimiter('assemblyai');

  /** One JSON request; `makeInit` is called per attempt (a streamed body cannot be sent twice). */
  async function call(
    path: string,
    makeInit: () => RequestInit & { duplex?: 'half' },
    signal?: AbortSignal,
    retryUnavailable = true,
  ): Promise<unknown> {
    return limiter.retry(
      async () => {
        let res: Response;
        let text: string;
        const init = makeInit();
        try {
          res = await fetch(`${base}${path}`, {
            ...init,
            headers: { authorization: key!, ...(init.headers as Record<string, string>) },
            ...(signal ? { signal } : {}),
          });
          text = await res.text();
        } catch (err) {
          throw toProviderError('assemblyai', err, signal);
        }
        if (!res.ok) throw httpProviderError('assemblyai', res.status, text, res.headers);
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new ProviderError('assemblyai', 'invalid_output', 'assemblyai: invalid JSON response', { retryable: true });
        }
      },
      { retryUnavailable, ...(signal ? { signal } : {}) },
    );
  }

  return {
    async transcribe(filePath, signal, o = {}) {
      const release = await limiter.acquire(signal);
      try {
        const size = (await fsp.stat(filePath)).size;
        // Upload streams the file; a retry re-opens it.
        const upload = (await call(
          '/v2/upload',
          () => ({
            method: 'POST',
            headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
            body: Readable.toWeb(createReadStream(filePath)) as unknown as RequestInit['body'],
            duplex: 'half',
          }),
          signal,
        )) as { upload_url?: unknown };
        if (typeof upload.upload_url !== 'string')
          throw new ProviderError('assemblyai', 'invalid_output', 'assemblyai: upload answer has no upload_url', { retryable: true });
        const created = (await call(
          '/v2/transcript',
          () => ({
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ audio_url: upload.upload_url, speaker_labels: true }),
          }),
          signal,
          false,
        )) as { id?: unknown };
        if (typeof created.id !== 'string')
          throw new ProviderError('assemblyai', 'invalid_output', 'assemblyai: transcript answer has no id', { retryable: true });
        const deadline = Date.now() + (o.timeoutMs ?? 60 * 60_000);
        for (;;) {
          const t = (await call(`/v2/transcript/${encodeURIComponent(created.id)}`, () => ({ method: 'GET' }), signal)) as {
            status?: string;
            text?: string | null;
            error?: string;
            utterances?: Array<{ speaker?: string; text?: string }> | null;
          };
          if (t.status === 'completed') {
            if (Array.isArray(t.utterances) && t.utterances.length > 0) {
              return t.utterances.map((u) => `[Speaker ${u.speaker ?? '?'}]: ${u.text ?? ''}`).join('\n\n');
            }
            return t.text ?? '';
          }
          if (t.status === 'error')
            throw new ProviderError(
              'assemblyai',
              'failed',
              `assemblyai: transcript ${created.id} failed: ${t.error ?? 'no reason given'}`,
              { retryable: false },
            );
          if (Date.now() > deadline)
            throw new ProviderError('assemblyai', 'timeout', `assemblyai: transcript ${created.id} did not finish in time`, {
              retryable: false,
            });
          await sleep(o.pollMs ?? 3000, signal);
        }
      } finally {
        release();
      }
    },
  };
}
