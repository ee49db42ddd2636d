import { Worker } from '@temporalio/worker';
/**
 * Every generation workflow end to end on the offline local provider: a real Temporal dev server, in-process
 * generation and media workers (real FFmpeg), LocalStorage in a temp dir.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  AUTH_ERRORS,
  ERROR_TYPES,
  HELLO_WORLD_WORKFLOW,
  PINTEREST_MAX_IMAGES,
  RENDER_PROGRESS_SIGNAL,
  REWRITE_IGNORED_WARNING,
  RUBY_STEPS,
  RUBY_WORKFLOW,
  SLIDESHOWS_PINTEREST_STEPS,
  SLIDESHOWS_PINTEREST_WORKFLOW,
  TRANSCRIPT_SUMMARY_STEPS,
  TRANSCRIPT_SUMMARY_WORKFLOW,
  VOICEOVER_STEPS,
  VOICEOVER_WORKFLOW,
  type HelloWorldOutput,
  type RubyOutput,
  type SlideshowsPinterestOutput,
  type StepDefinition,
  type StepProgress,
  type TranscriptSummaryOutput,
  type VoiceoverOutput,
} from '@gptmarket/contracts';
import { LocalStorage } from '@gptmarket/storage';
import { noisyFrames } from '../../media-worker/test/helpers.js';
import {
  OBSERVED_QUEUE,
  bestCorrelation,
  workflowBundle,
  decodeAudio,
  ffprobe,
  readStored,
  runWorkflow,
  startHarness,
  storedPath,
  type Harness,
  type RunResult,
} from './harness.js';

const observed = { taskQueue: OBSERVED_QUEUE };

let h: Harness;
let work: string;
let http: Server;
let httpBase: string;
const served = new Map<string, { body: Buffer; type: string }>();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'gptmarket-genworker-work-'));
  // A local "remote" host: the media worker may fetch from it only because the policy allow-lists it.
  http = createServer((req, res) => {
    const file = served.get(req.url ?? '');
    if (!file) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length }).end(file.body);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  httpBase = `http://127.0.0.1:${port}`;
  h = await startHarness({ mediaPolicy: { allowHosts: [`127.0.0.1:${port}`] } });
}, 180_000);

afterAll(async () => {
  await h?.stop();
  http?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every step seen is from the table with its name and start percentage; percentages never go down. */
/** `sequence`: the exact order of step ids seen (steps that call no activity cannot be observed). */
function expectSteps(run: RunResult<unknown>, table: Record<string, StepDefinition>, sequence: string[]): void {
  if (process.env.DEBUG_STEPS)
    console.log(
      run.steps.map((s) => `${s.step_id}:${s.status}:${s.progress_pct}`).join(' '),
      (run.result as { warnings?: unknown })?.warnings,
    );
  const byId = new Map(Object.values(table).map((s) => [s.id, s]));
  let pct = -1;
  for (const s of run.steps) {
    if (s.step_id === 'complete') {
      expect(s).toEqual({ step_id: 'complete', step_name: 'Complete', status: 'completed', progress_pct: 100, message: 'Done!' });
      continue;
    }
    const def = byId.get(s.step_id);
    expect(def, `unknown step ${s.step_id}`).toBeDefined();
    expect(s.step_name).toBe(def!.name);
    expect(s.progress_pct).toBe(def!.pct);
    expect(s.progress_pct).toBeGreaterThanOrEqual(pct);
    pct = s.progress_pct;
  }
  const seen = run.steps.map((s) => s.step_id).filter((id, i, all) => all[i - 1] !== id);
  expect(seen).toEqual(sequence);
  expect(run.statuses[run.statuses.length - 1]).toBe(run.error ? 'failed' : 'completed');
  if (!run.error) expect(run.statuses).toContain('running');
}

function failureOf(run: RunResult<unknown>): ApplicationFailure {
  expect(run.error).toBeInstanceOf(WorkflowFailedError);
  const cause = (run.error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

function lastStep(run: RunResult<unknown>): StepProgress | undefined {
  return run.steps[run.steps.length - 1];
}

/** A short clip made by FFmpeg: a 440 Hz tone under a test pattern. */
function makeClip(name: string, seconds: number, withAudio = true): string {
  const path = join(work, name);
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=320x240:rate=24:duration=${seconds}`,
    ...(withAudio ? ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`] : []),
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    ...(withAudio ? ['-c:a', 'aac', '-shortest'] : []),
    path,
  ]);
  return path;
}

describe('HelloWorldWorkflow', () => {
  it('greets', async () => {
    const run = await runWorkflow<HelloWorldOutput>(h, HELLO_WORLD_WORKFLOW, { name: 'Ada' });
    expect(run.error).toBeUndefined();
    expect(run.result).toEqual({ message: 'Hello, Ada!' });
    expect(lastStep(run)?.step_id).toBe('complete');
  });
});

describe('auth', () => {
  it('fails with "WORKFLOW_SECRET_KEY not configured on server" when the worker has auth on and no key', async () => {
    await h.addGenerationWorker('auth-not-configured', { secrets: { enabled: true, secrets: [] } });
    const run = await runWorkflow(h, HELLO_WORLD_WORKFLOW, { name: 'x', secret_key: 'anything' }, { taskQueue: 'auth-not-configured' });
    const failure = failureOf(run);
    expect(failure.message).toBe(AUTH_ERRORS.notConfigured);
    expect(failure.type).toBe(ERROR_TYPES.auth);
    expect(failure.nonRetryable).toBe(true);
    expect(run.statuses).not.toContain('running');
  });
});

describe('SlideshowsPinterestWorkflow (offline)', () => {
  it('searches, selects and saves images into our storage', async () => {
    const run = await runWorkflow<SlideshowsPinterestOutput>(h, SLIDESHOWS_PINTEREST_WORKFLOW, { prompt: 'cozy autumn cabin' }, observed);
    expect(run.error).toBeUndefined();
    const out = run.result!;
    // The offline LLM writes 5 queries; the offline scraper finds 8 pins for each (2 pages).
    expect(out.queries_used).toHaveLength(5);
    expect(new Set(out.queries_used).size).toBe(5);
    expect(out.warnings).toEqual([]);
    expect(out.total_scraped).toBe(40);
    expect(out.images).toHaveLength(PINTEREST_MAX_IMAGES);
    expect(out.failed_uploads).toEqual([]);
    for (const img of out.images) {
      expect(img.image_url.startsWith('http://media.test.invalid/media/pinterest/images/')).toBe(true);
      const png = readStored(h, img.image_url);
      expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
      expect(img.aspect_ratio).toBe('9:16');
    }
    expect(new Set(out.images.map((i) => i.image_url)).size).toBe(out.images.length);
    // `select` calls no activity: it starts and ends inside one workflow task, invisible to queries.
    expectSteps(run, SLIDESHOWS_PINTEREST_STEPS, ['generate_queries', 'scrape', 'upload', 'complete']);
    expect(Object.keys(out).sort()).toEqual(['failed_uploads', 'images', 'queries_used', 'total_scraped', 'warnings']);
  });

  it('rejects invalid input with a non-retryable InvalidInputError', async () => {
    const run = await runWorkflow(h, SLIDESHOWS_PINTEREST_WORKFLOW, { prompt: '   ' });
    const failure = failureOf(run);
    expect(failure.type).toBe(ERROR_TYPES.invalidInput);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('prompt');
    const missing = failureOf(await runWorkflow(h, SLIDESHOWS_PINTEREST_WORKFLOW, {}));
    expect(missing.type).toBe(ERROR_TYPES.invalidInput);
  });
});

describe('VoiceoverWorkflow (offline)', () => {
  it('speaks the text into a stored WAV, and reports rewrite_enabled as ignored', async () => {
    const run = await runWorkflow<VoiceoverOutput>(
      h,
      VOICEOVER_WORKFLOW,
      { text: 'Hello there, this is a short voice over test.', rewrite_enabled: true },
      observed,
    );
    expect(run.error).toBeUndefined();
    const out = run.result!;
    expect(out.provider).toBe('local');
    expect(out.video_url).toBeNull();
    expect(out.warnings).toEqual([REWRITE_IGNORED_WARNING]);
    const probe = ffprobe(storedPath(h, out.audio_url));
    expect(probe.streams.map((s) => s.codec_type)).toEqual(['audio']);
    expect(Number(probe.format.duration)).toBeCloseTo(out.audio_duration_seconds!, 1);
    expect(out.audio_duration_seconds!).toBeGreaterThan(1);
    expectSteps(run, VOICEOVER_STEPS, ['synthesize', 'upload', 'complete']);
  });

  it('puts the speech under a video fetched through the guarded downloader', async () => {
    const clip = makeClip('silent.mp4', 3, false);
    served.set('/clips/silent.mp4', { body: readFileSync(clip), type: 'video/mp4' });
    const run = await runWorkflow<VoiceoverOutput>(
      h,
      VOICEOVER_WORKFLOW,
      {
        text: 'One two three four five six seven eight nine ten',
        video_url: `${httpBase}/clips/silent.mp4`,
      },
      observed,
    );
    expect(run.error).toBeUndefined();
    const out = run.result!;
    expect(out.video_url).toMatch(/^http:\/\/media\.test\.invalid\/media\/voiceover\/videos\//);
    expect(out.video_poster_url).toMatch(/\/media\/voiceover\/videos\/.*\.jpg$/);
    const probe = ffprobe(storedPath(h, out.video_url!));
    expect(probe.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
    // The video's audio is the speech: compare the decoded waveforms.
    const speech = decodeAudio(storedPath(h, out.audio_url));
    const mixed = decodeAudio(storedPath(h, out.video_url!));
    expect(bestCorrelation(speech, mixed, 16000 * 2, 800)).toBeGreaterThan(0.9);
    expectSteps(run, VOICEOVER_STEPS, ['synthesize', 'mix', 'upload', 'complete']);
  });

  it('refuses a video URL on a private address that is not allow-listed', async () => {
    const run = await runWorkflow(h, VOICEOVER_WORKFLOW, { text: 'hi', video_url: 'http://127.0.0.2:9/clip.mp4' });
    const failure = failureOf(run);
    expect(failure.nonRetryable).toBe(true);
    expect(lastStep(run)).toMatchObject({ step_id: 'mix', status: 'failed', progress_pct: VOICEOVER_STEPS.mix.pct });
  });

  it('a failure shows only words meant for the caller: no FFmpeg output, no temp paths', async () => {
    // A clip whose index is intact (it probes fine) but whose frames are noise: FFmpeg refuses it mid-render.
    served.set('/clips/noisy.mp4', { body: noisyFrames(makeClip('noisy.mp4', 1, false)), type: 'video/mp4' });
    const run = await runWorkflow(h, VOICEOVER_WORKFLOW, { text: 'hi', video_url: `${httpBase}/clips/noisy.mp4` });
    const failure = failureOf(run);
    expect(failure.type).toBe(ERROR_TYPES.invalidInput);
    const step = lastStep(run)!;
    expect(step).toMatchObject({ step_id: 'mix', status: 'failed' });
    for (const shown of [failure.message, step.message]) {
      expect(shown).toMatch(/cannot be decoded/);
      expect(shown).not.toMatch(/NAL unit|Invalid data found|gptmarket-|\/tmp\//);
    }
  });

  it('an unexpected failure (storage on a broken disk) leaves no internals in the step the caller sees', async () => {
    const notADirectory = join(work, 'not-a-directory');
    writeFileSync(notADirectory, 'a file where the storage directory should be');
    const queue = 'broken-storage-queue';
    await h.addGenerationWorker(queue, {
      storage: new LocalStorage({ dir: notADirectory, publicBaseUrl: 'http://media.test.invalid/media' }),
    });
    const run = await runWorkflow(h, VOICEOVER_WORKFLOW, { text: 'hi' }, { taskQueue: queue });
    expect(run.error).toBeInstanceOf(WorkflowFailedError);
    expect(lastStep(run)).toMatchObject({ step_id: 'synthesize', status: 'failed', message: 'The step failed unexpectedly.' });
  });

  it('rejects invalid input with a non-retryable InvalidInputError', async () => {
    for (const input of [
      { text: '' },
      { text: 'hi', video_url: 'file:///etc/passwd' },
      { text: 'hi', provider: 'acme' },
      { text: 'x'.repeat(5001) },
    ]) {
      const failure = failureOf(await runWorkflow(h, VOICEOVER_WORKFLOW, input));
      expect(failure.type).toBe(ERROR_TYPES.invalidInput);
      expect(failure.nonRetryable).toBe(true);
    }
  });
});

describe('TranscriptSummaryWorkflow (offline)', () => {
  it('extracts the audio, stores a transcript and a summary', async () => {
    const clip = makeClip('talk.mp4', 2);
    served.set('/clips/talk.mp4', { body: readFileSync(clip), type: 'video/mp4' });
    const run = await runWorkflow<TranscriptSummaryOutput>(
      h,
      TRANSCRIPT_SUMMARY_WORKFLOW,
      {
        media_url: `${httpBase}/clips/talk.mp4`,
        meeting_date: '2026-11-20',
      },
      observed,
    );
    expect(run.error).toBeUndefined();
    const out = run.result!;
    const audio = ffprobe(storedPath(h, out.audio_url));
    expect(audio.streams.map((s) => `${s.codec_type}/${s.codec_name}`)).toEqual(['audio/aac']);
    expect(Number(audio.format.duration)).toBeGreaterThan(1.5);
    const transcript = readStored(h, out.transcript_url).toString('utf8');
    expect(transcript.trim().length).toBe(out.transcript_chars);
    expect(out.transcript_chars).toBeGreaterThan(0);
    const summary = readStored(h, out.summary_url).toString('utf8');
    expect(summary.trim()).toBe(out.summary.trim());
    expect(out.summary.length).toBeGreaterThan(0);
    expect(out.meeting_date).toBe('2026-11-20');
    expect(out.transcript_url).toMatch(/\/transcripts\/text\/.+\.txt$/);
    expect(out.summary_url).toMatch(/\/transcripts\/summaries\/.+\.md$/);
    expectSteps(run, TRANSCRIPT_SUMMARY_STEPS, ['extract', 'transcribe', 'summarize', 'upload', 'complete']);
  });

  it('fails without retrying on a recording with no audio', async () => {
    const clip = makeClip('mute.mp4', 1, false);
    served.set('/clips/mute.mp4', { body: readFileSync(clip), type: 'video/mp4' });
    const run = await runWorkflow(h, TRANSCRIPT_SUMMARY_WORKFLOW, { media_url: `${httpBase}/clips/mute.mp4` });
    const failure = failureOf(run);
    expect(failure.message).toContain('no audio');
    expect(lastStep(run)).toMatchObject({ step_id: 'extract', status: 'failed' });
  });

  it('rejects a non-http media URL as invalid input', async () => {
    const failure = failureOf(await runWorkflow(h, TRANSCRIPT_SUMMARY_WORKFLOW, { media_url: 'file:///etc/passwd' }));
    expect(failure.type).toBe(ERROR_TYPES.invalidInput);
    expect(failure.nonRetryable).toBe(true);
  });
});

describe('RubyWorkflow (offline)', () => {
  it('produces all outputs in our storage with its step table', async () => {
    const run = await runWorkflow<RubyOutput>(
      h,
      RUBY_WORKFLOW,
      { text_overlay: 'wait for it', hair_color: 'pink', ethnicity: 'latino', clothing: 'athletic' },
      { ...observed, timeoutMs: 150_000 },
    );
    expect(run.error).toBeUndefined();
    const out = run.result!;
    for (const url of [out.face_image_url, out.raw_video_url, out.final_video_url]) expect(h.storage.keyFromUrl(url)).not.toBeNull();
    expect(out.enhanced_image_prompt).toContain('pink');
    expect(out.enhanced_image_prompt).toContain('latino');
    expect(out.enhanced_image_prompt).toContain('athletic');
    const raw = ffprobe(storedPath(h, out.raw_video_url));
    const final = ffprobe(storedPath(h, out.final_video_url));
    // Slow motion at 0.7: the final clip is about 1/0.7 times as long.
    expect(Number(final.format.duration) / Number(raw.format.duration)).toBeCloseTo(1 / 0.7, 1);
    // Slow motion and the caption are one render, reported as the Python system's two steps while it runs.
    expectSteps(run, RUBY_STEPS, ['prompts', 'face', 'video', 'slowmo', 'text', 'upload', 'complete']);
    // The switch is driven by the render itself: its halfway signal reached the workflow while it still ran.
    const events = (await h.client.getHandle(run.workflowId).fetchHistory()).events ?? [];
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'renderVideo');
    const signaled = events.find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === RENDER_PROGRESS_SIGNAL);
    const completed = events.find(
      (e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '') === String(scheduled?.eventId),
    );
    expect([scheduled, signaled, completed].every(Boolean)).toBe(true);
    expect(Number(scheduled!.eventId)).toBeLessThan(Number(signaled!.eventId));
    expect(Number(signaled!.eventId)).toBeLessThan(Number(completed!.eventId));
    // The recorded history replays with this code (what a worker does after a cache eviction, or for a query).
    const history = await h.client.getHandle(run.workflowId).fetchHistory();
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, run.workflowId)).resolves.toBeUndefined();
  }, 180_000);
});

describe('RubyWorkflow (offline): caption without slow motion', () => {
  it('reports the text step and keeps the clip length', async () => {
    const run = await runWorkflow<RubyOutput>(
      h,
      RUBY_WORKFLOW,
      { text_overlay: 'no slow-mo', slowed_video: false },
      { ...observed, timeoutMs: 150_000 },
    );
    expect(run.error).toBeUndefined();
    const out = run.result!;
    expect(out.final_video_url).not.toBe(out.raw_video_url);
    const raw = ffprobe(storedPath(h, out.raw_video_url));
    const final = ffprobe(storedPath(h, out.final_video_url));
    expect(Number(final.format.duration)).toBeCloseTo(Number(raw.format.duration), 0);
    expectSteps(run, RUBY_STEPS, ['prompts', 'face', 'video', 'text', 'upload', 'complete']);
  }, 180_000);
});
