import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAssemblyAi, createOpenAi, createProviderLimiter, createTranscriber, ProviderError } from '../src/index.js';
import { startFakeAssemblyAi, type FakeAssemblyAi } from './fakes/assemblyai.js';
import { startFakeOpenAi, type FakeLlm } from './fakes/llm.js';
import { ffmpegAudio } from './fakes/speech.js';

let dir: string;
let file: string;
let audio: Buffer;
let aai: FakeAssemblyAi;
let oa: FakeLlm & { baseUrl: string };
beforeAll(async () => {
  [dir, aai, oa, audio] = await Promise.all([
    mkdtemp(join(tmpdir(), 'stt-')),
    startFakeAssemblyAi(),
    startFakeOpenAi(),
    ffmpegAudio(1, 'mp3'),
  ]);
  file = join(dir, 'a.mp3');
  await writeFile(file, audio);
});
afterAll(async () => {
  await Promise.all([aai?.close(), oa?.close()]);
  await rm(dir, { recursive: true, force: true });
});

describe('transcription', () => {
  it('AssemblyAI: uploads the bytes, asks for speaker labels, polls, renders speaker turns', async () => {
    const assemblyai = createAssemblyAi(
      { ASSEMBLYAI_API_KEY: 'aai-test-key-0123456789', ASSEMBLYAI_BASE_URL: aai.url },
      { limiter: createProviderLimiter('assemblyai', 2) },
    );
    aai.uploadFailures = 1; // the retried upload must send the whole file again
    const r = await createTranscriber({}, { assemblyai, pollMs: 10 }).transcribe(file);
    expect(r).toEqual({ text: '[Speaker A]: Hi.\n\n[Speaker B]: Hello.', provider: 'assemblyai' });
    expect(aai.uploads).toHaveLength(1);
    expect(aai.uploads[0]!.equals(audio)).toBe(true);
    expect(aai.requests.filter((q) => q.path === '/v2/upload')).toHaveLength(2);
    expect(aai.requests.find((q) => q.path === '/v2/transcript')!.json).toEqual({
      audio_url: 'https://cdn.assemblyai.test/upload/1',
      speaker_labels: true,
    });
    aai.outcome = 'error';
    const err = (await createTranscriber({}, { assemblyai, pollMs: 10 })
      .transcribe(file)
      .catch((e: unknown) => e)) as ProviderError;
    expect(err).toMatchObject({ code: 'failed', retryable: false });
    expect(err.message).toContain('Audio file contains no speech');
  });

  it('OpenAI: multipart upload of the file to /v1/audio/transcriptions', async () => {
    oa.replies.push({ content: 'hello world' });
    const openai = createOpenAi(
      { OPENAI_API_KEY: 'sk-test-openai-key-123456', OPENAI_BASE_URL: oa.baseUrl },
      { limiter: createProviderLimiter('openai', 2) },
    );
    const r = await createTranscriber({ OPENAI_TRANSCRIPTION_MODEL: 'gpt-4o-transcribe' }, { openai }).transcribe(file);
    expect(r).toEqual({ text: 'hello world', provider: 'openai' });
    const req = oa.requests.at(-1)!;
    expect(req.path).toBe('/v1/audio/transcriptions');
    expect(String(req.headers['content-type'])).toMatch(/^multipart\/form-data/);
    expect(req.body.toString('latin1')).toContain('gpt-4o-transcribe');
    expect(req.body.includes(audio)).toBe(true);
  });

  it('no key: a deterministic local transcript', async () => {
    const a = await createTranscriber({}).transcribe(file);
    expect(a.provider).toBe('local');
    expect(a.text).toBe((await createTranscriber({}).transcribe(file)).text);
  });
});
